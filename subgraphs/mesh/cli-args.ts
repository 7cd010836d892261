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

export class CliUsageError extends Error {}

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

class HelpRequested extends Error {}

/** The same, throwing HelpRequested / CliUsageError instead of exiting (for tests and embedding). */
export function parseCliOrThrow<const O extends Record<string, CliOption>>(spec: CliSpec<O>, args: string[]): { values: CliValues<O>; positionals: string[] } {
  if (args.includes('--help') || args.includes('-h')) throw new HelpRequested();
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
