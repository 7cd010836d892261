import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Command-line parsing shared by every CLI of the project (node:util parseArgs, strict): `--help`
 * (or `-h`) prints the usage and the options and exits 0; an unknown option, a missing value or a
 * wrong number of arguments prints one line naming it, the usage line, and exits 2.
 */
export interface CliOption {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string | boolean | readonly string[];
  /** What the option does, one line. */
  description: string;
  /** Placeholder for the value in the help (`FILE`, `N`); default `VALUE`. */
  value?: string;
}

export interface CliSpec<O extends Record<string, CliOption>> {
  /** How to run it: `npm run check -- <subgraph> [options]`. */
  usage: string;
  /** What it does, a few lines. */
  summary: string;
  options: O;
  /** Positional arguments, in order, for the help and the count check. */
  positionals?: readonly { name: string; description: string; optional?: boolean }[];
  examples?: readonly string[];
  /** Text after the options (environment variables, exit codes). */
  epilog?: string;
}

type ValueOf<T extends CliOption> = T['type'] extends 'boolean'
  ? T['multiple'] extends true
    ? boolean[]
    : boolean | undefined
  : T['multiple'] extends true
    ? string[] | undefined
    : string | undefined;

export type CliValues<O extends Record<string, CliOption>> = { [K in keyof O]: ValueOf<O[K]> };

/** A wrong argument: exit code 2. `usage`, when known, is printed after the message. */
export class CliUsageError extends Error {
  constructor(
    message: string,
    public usage?: string,
  ) {
    super(message);
  }
}

/** Where a CLI's main prints, one line per call: the console, or a test's buffers. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** A CLI's logic, callable in-process: the exit code it ends with (a thrown error decides it otherwise). */
export type CliMain = (args: string[], io: CliIo) => Promise<number | void>;

/**
 * Whether the module is the program being run (`node --import tsx <file>`, or scripts/run-cli.mjs,
 * which sets process.argv[1] to the file it runs), not imported by a test or another module.
 */
export function isCliEntry(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

/** The exit code of a --help request (0) or a usage error (2), printed to `io`; undefined for any other error. */
export function cliUsageExitCode(error: unknown, io: CliIo): number | undefined {
  if (error instanceof HelpRequested) {
    io.out(error.help.replace(/\n$/, ''));
    return 0;
  }
  if (error instanceof CliUsageError) {
    io.err(`error: ${error.message}${error.usage ? `\nusage: ${error.usage}` : ''}\nRun with --help for the options.`);
    return 2;
  }
  return undefined;
}

/** Parses `args` against the spec; exits 0 after printing the help, 2 on a usage error. */
export function parseCli<const O extends Record<string, CliOption>>(
  spec: CliSpec<O>,
  args: string[] = process.argv.slice(2),
): { values: CliValues<O>; positionals: string[] } {
  try {
    return parseCliOrThrow(spec, args);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(formatHelp(spec));
      process.exit(0);
    }
    if (error instanceof CliUsageError) {
      process.stderr.write(`error: ${error.message}\nusage: ${spec.usage}\nRun with --help for the options.\n`);
      process.exit(2);
    }
    throw error;
  }
}

class HelpRequested extends Error {
  constructor(public help: string) {
    super('help requested');
  }
}

/**
 * The same, throwing HelpRequested (with the help) / CliUsageError (with the usage) instead of
 * exiting: a CliMain's parsing, turned into output and an exit code by cliUsageExitCode.
 */
export function parseCliOrThrow<const O extends Record<string, CliOption>>(spec: CliSpec<O>, args: string[]): { values: CliValues<O>; positionals: string[] } {
  try {
    return parseOrThrow(spec, args);
  } catch (error) {
    if (error instanceof CliUsageError) error.usage ??= spec.usage;
    throw error;
  }
}

function parseOrThrow<const O extends Record<string, CliOption>>(spec: CliSpec<O>, args: string[]): { values: CliValues<O>; positionals: string[] } {
  if (args.includes('--help') || args.includes('-h')) throw new HelpRequested(formatHelp(spec));
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string; default?: string | boolean | string[] }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: (Array.isArray(o.default) ? [...o.default] : o.default) as string | boolean | string[] } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: (spec.positionals?.length ?? 0) > 0 });
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new CliUsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''));
    throw error;
  }
  const declared = spec.positionals ?? [];
  const required = declared.filter((p) => !p.optional).length;
  if (parsed.positionals.length < required) throw new CliUsageError(`missing ${declared.slice(parsed.positionals.length, required).map((p) => `<${p.name}>`).join(' ')}`);
  if (parsed.positionals.length > declared.length) throw new CliUsageError(`unexpected argument "${parsed.positionals[declared.length]}"`);
  return { values: parsed.values as CliValues<O>, positionals: parsed.positionals };
}

export function formatHelp(spec: CliSpec<Record<string, CliOption>>): string {
  const rows: [string, string][] = [];
  for (const p of spec.positionals ?? []) rows.push([`<${p.name}>`, p.description + (p.optional ? ' (optional)' : '')]);
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const shown = o.default === undefined || o.default === false || o.default === '' || (Array.isArray(o.default) && o.default.length === 0) ? '' : ` (default: ${Array.isArray(o.default) ? o.default.join(', ') : String(o.default)})`;
    rows.push([flag, `${o.description}${o.multiple ? ' (repeatable)' : ''}${shown}`]);
  }
  rows.push(['-h, --help', 'show this help and exit']);
  const width = Math.min(30, Math.max(...rows.map(([f]) => f.length)));
  const lines = rows.map(([flag, text]) => (flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${text}` : `  ${flag.padEnd(width)}  ${text}`));
  return [
    `Usage: ${spec.usage}`,
    '',
    spec.summary.trim(),
    '',
    (spec.positionals?.length ? 'Arguments and options:' : 'Options:'),
    ...lines,
    ...(spec.examples?.length ? ['', 'Examples:', ...spec.examples.map((e) => `  ${e}`)] : []),
    ...(spec.epilog ? ['', spec.epilog.trim()] : []),
    '',
  ].join('\n');
}
