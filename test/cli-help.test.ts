import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliMain } from '../subgraphs/mesh/cli-args.js';
import { PROCESS_TEST_TIMEOUT_MS, ROOT, runMain, startCli, type CliResult } from './helpers/cli.js';

/**
 * Every npm script that runs one of our CLIs (`tsx <file>.ts`, or `node scripts/run-cli.mjs <file>`,
 * which runs <file>.ts in development) answers `--help` with its usage and
 * options (exit 0), and refuses an unknown option with one line naming it (exit 2).
 */
const scripts = Object.entries((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts)
  .map(([name, command]) => ({ name, command, file: /^tsx (\S+\.ts)$/.exec(command)?.[1] ?? /^node scripts\/run-cli\.mjs (\S+)$/.exec(command)?.[1]?.concat('.ts') }))
  .filter((s): s is { name: string; command: string; file: string } => s.file !== undefined);

/**
 * The scripts run as real processes, exactly as npm runs them: `npm start` (through
 * scripts/run-cli.mjs, as most scripts) and the benchmark (through tsx, and it exports no main).
 * The others' mains run in this process: the same parsing and output, without a process start each.
 */
const AS_PROCESS = new Set(['start', 'bench']);

async function run(script: { name: string; command: string; file: string }, args: string[]): Promise<CliResult> {
  if (AS_PROCESS.has(script.name)) {
    // `tsx <file>` is node with tsx's loader; `node scripts/run-cli.mjs <entry>` as written.
    const [program, ...rest] = script.command.split(' ');
    const cli = startCli(rest[0]!, [...rest.slice(1), ...args], program === 'node' ? { compiled: true } : {});
    const exit = await cli.exited();
    return { ...exit, stdout: cli.stdout, stderr: cli.stderr };
  }
  const { main } = (await import(join(ROOT, script.file))) as { main?: CliMain };
  expect(main, `${script.file} exports its main(args, io)`).toBeTypeOf('function');
  return runMain(main!, args);
}

describe('the CLIs', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('include every script that starts a CLI', () => {
    expect(scripts.map((s) => s.name)).toEqual(expect.arrayContaining(['start', 'gateway', 'subgraph', 'compose', 'quality', 'token', 'bench', 'check', 'new-domain', 'audit']));
    for (const name of AS_PROCESS) expect(scripts.map((s) => s.name)).toContain(name);
  });

  it.each(scripts.map((s) => [s.name, s] as const))('npm run %s -- --help prints its usage and options and exits 0', async (name, script) => {
    const result = await run(script, ['--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: npm (run )?${name === 'start' ? 'start' : `run ${name}`} `));
    expect(result.stdout).toMatch(/\n(Options|Arguments and options):\n/);
    expect(result.stdout).toContain('  -h, --help');
    // Every option the CLI accepts is listed with a description.
    const options = [...result.stdout.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)(?: \S+)? {2,}\S/gm)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(1);
  });

  it.each(scripts.map((s) => [s.name, s] as const))('npm run %s refuses an unknown option with exit code 2, naming it', async (_name, script) => {
    const result = await run(script, ['--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Unknown option '--no-such-option'\nusage: npm .*\nRun with --help for the options\.\n$/);
    expect(result.stdout).toBe('');
  });
});
