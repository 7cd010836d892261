import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS, ROOT } from './helpers/cli.js';
import { startMesh, type TestMesh } from './helpers/mesh.js';

/**
 * The README's examples run as written: its cross-domain curl command, copied from the README,
 * run by bash against a started mesh (only the port substituted), answers what the README shows.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced code blocks of one README section, in order. */
function blocksOf(heading: string): { lang: string; code: string }[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "## ${heading}"`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

const section = blocksOf('An example cross-domain query');
const query = section.find((b) => b.lang === 'graphql')!.code;
const curlAt = section.findIndex((b) => b.lang === 'bash' && b.code.includes('curl'));
const command = section[curlAt]!.code;
const documented = JSON.parse(section.slice(curlAt + 1).find((b) => b.lang === 'json')!.code) as unknown;

function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.JWT_SECRET; // the README's reader runs on the development defaults
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The documented JSON, as a pattern: the same keys at every level and the same values, where a
 * string like "… three more lines …" in a list stands for the elements the README leaves out.
 */
function expectDocumented(actual: unknown, expected: unknown, path = '$'): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    const shown = expected.filter((e) => !(typeof e === 'string' && e.startsWith('…')));
    const elided = shown.length < expected.length;
    if (elided) expect((actual as unknown[]).length, `${path}: more elements than shown`).toBeGreaterThan(shown.length);
    else expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    shown.forEach((e, i) => expectDocumented((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', path).toBe(true);
    expect(Object.keys(actual as object).sort(), `${path} keys`).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectDocumented((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

let mesh: TestMesh;
beforeAll(async () => {
  mesh = await startMesh();
}, PROCESS_TEST_TIMEOUT_MS);
afterAll(async () => {
  await mesh?.close();
});

describe("the README's examples", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('sends, in its curl command, exactly the query it shows', () => {
    expect(command).not.toContain('…');
    const body = /<<'EOF'\n([\s\S]*?)\nEOF/.exec(command)?.[1];
    expect(body, 'the request body is a heredoc').toBeDefined();
    const sent = (JSON.parse(body!) as { query: string }).query;
    expect(print(parse(sent))).toBe(print(parse(query)));
  });

  it('runs its curl command as written against a started mesh and gets the documented answer', async () => {
    expect(command).toContain('localhost:4000');
    const result = await bash(command.replaceAll('localhost:4000', `127.0.0.1:${mesh.gateway.port}`));
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expectDocumented(answer, documented);
  });
});
