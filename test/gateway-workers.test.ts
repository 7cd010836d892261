import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsConnections, freePort, PROCESS_TEST_TIMEOUT_MS, startCli, type RunningCli } from './helpers/cli.js';
import { fullAccess, postGraphQL, startMesh, type TestMesh } from './helpers/mesh.js';

/**
 * `npm run gateway -- --workers N`: N gateway processes share one port (node:cluster). Each serves
 * the whole graph and its own /health; a worker that dies is replaced; SIGTERM to the primary
 * drains every worker and ends them all.
 */
const GATEWAY = 'gateway/cli/gateway.ts';
const PIDS = /with 2 workers \(pids (\d+), (\d+)\)/;

let mesh: TestMesh;
let dir: string;
let port: number;
let gateway: RunningCli;

beforeAll(async () => {
  mesh = await startMesh();
  dir = mkdtempSync(join(tmpdir(), 'gateway-workers-test-'));
  const supergraph = join(dir, 'supergraph.graphql');
  writeFileSync(supergraph, mesh.supergraphSdl);
  port = await freePort();
  gateway = startCli(GATEWAY, ['--supergraph', supergraph, '--port', String(port), '--workers', '2'], { env: { HOT_RELOAD: 'false' } });
  await gateway.waitForOutput(PIDS);
}, PROCESS_TEST_TIMEOUT_MS);

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await mesh?.close();
  rmSync(dir, { recursive: true, force: true });
});

const crossDomain = '{ customers(first: 2) { fullName orders(first: 1) { id lines { product { name } } } } }';

async function answersCrossDomain(): Promise<void> {
  const { status, body } = await postGraphQL(`http://127.0.0.1:${port}/graphql`, crossDomain, undefined, await fullAccess());
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  expect(body.data.customers).toHaveLength(2);
}

describe('gateway --workers 2', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('serves the graph and /health on the one port from two worker processes', async () => {
    const [, first, second] = gateway.stdout.match(PIDS)!;
    expect(first).not.toBe(second);
    expect(gateway.stdout).toMatch(new RegExp(`gateway ready: http://127\\.0\\.0\\.1:${port}/graphql`));
    // Several requests on fresh connections: the primary hands them to the workers in turn.
    for (let i = 0; i < 4; i++) await answersCrossDomain();
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { subgraphs: string[] }).subgraphs).toContain('sales');
  });

  it('replaces a worker that dies, and keeps serving meanwhile', async () => {
    const [, victim] = gateway.stdout.match(PIDS)!;
    process.kill(Number(victim), 'SIGKILL');
    await waitForStderr(gateway, /gateway worker restarted/);
    expect(gateway.stderr).toMatch(/gateway worker exited; starting a new one/);
    for (let i = 0; i < 4; i++) await answersCrossDomain();
  });

  it('stops every worker on SIGTERM and exits 0, the port closed', async () => {
    const exit = await gateway.stop('SIGTERM');
    expect(exit, `stdout: ${gateway.stdout}\nstderr: ${gateway.stderr}`).toEqual({ code: 0, signal: null });
    expect(await acceptsConnections(port)).toBe(false);
  });
});

/** The primary's warnings (JSON lines on stderr): resolves on the first that matches. */
function waitForStderr(cli: RunningCli, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (settle: () => void) => {
      clearTimeout(timer);
      cli.child.stderr!.off('data', check);
      settle();
    };
    const check = () => pattern.test(cli.stderr) && done(resolve);
    const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms\nstdout: ${cli.stdout}\nstderr: ${cli.stderr}`))), timeoutMs);
    cli.child.stderr!.on('data', check);
    check();
  });
}
