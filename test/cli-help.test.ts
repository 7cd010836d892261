import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS, ROOT, runCli } from './helpers/cli.js';

/**
 * Every npm script that runs one of our CLIs (`tsx <file>.ts`, or `node scripts/run-cli.mjs <file>`,
 * which runs <file>.ts in development) answers `--help` with its usage and
 * options (exit 0), and refuses an unknown option with one line naming it (exit 2).
 */
const scripts = Object.entries((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts)
  .map(([name, command]) => ({ name, file: /^tsx (\S+\.ts)$/.exec(command)?.[1] ?? /^node scripts\/run-cli\.mjs (\S+)$/.exec(command)?.[1]?.concat('.ts') }))
  .filter((s): s is { name: string; file: string } => s.file !== undefined);

describe('the CLIs', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('include every script that starts a CLI', () => {
    expect(scripts.map((s) => s.name)).toEqual(expect.arrayContaining(['start', 'gateway', 'subgraph', 'compose', 'quality', 'token', 'bench', 'check', 'new-domain']));
  });

  it.each(scripts.map((s) => [s.name, s.file]))('npm run %s -- --help prints its usage and options and exits 0', async (name, file) => {
    const result = await runCli(file, ['--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: npm (run )?${name === 'start' ? 'start' : `run ${name}`} `));
    expect(result.stdout).toMatch(/\n(Options|Arguments and options):\n/);
    expect(result.stdout).toContain('  -h, --help');
    // Every option the CLI accepts is listed with a description.
    const options = [...result.stdout.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)(?: \S+)? {2,}\S/gm)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(1);
  });

  it.each(scripts.map((s) => [s.name, s.file]))('npm run %s refuses an unknown option with exit code 2, naming it', async (_name, file) => {
    const result = await runCli(file, ['--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Unknown option '--no-such-option'\nusage: npm .*\nRun with --help for the options\.\n$/);
    expect(result.stdout).toBe('');
  });
});
