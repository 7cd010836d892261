/**
 * `npm run new-domain -- <name> [--entity Type] [--port N] [--root DIR]`: scaffolds a working
 * domain (subgraphs/<name>/) on the kit and registers it in supergraph.yaml, the mesh's one list.
 */
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { cliUsageExitCode, isCliEntry, parseCliOrThrow, processIo, type CliIo } from './mesh/cli-args.js';
import { SettingsError } from './mesh/numbers.js';
import { scaffoldDomain } from './kit/scaffold/scaffold.js';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));

/** The CLI's logic, in-process for tests: prints to `io`, returns the exit code. */
export async function main(args: string[], io: CliIo): Promise<number> {
  try {
    return await scaffold(args, io);
  } catch (error) {
    const code = cliUsageExitCode(error, io);
    if (code !== undefined) return code;
    if (error instanceof SettingsError) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function scaffold(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliOrThrow({
    usage: 'npm run new-domain -- <name> [--entity Type] [--port N] [--root DIR]',
    summary: `Scaffolds a domain subgraph that works as generated: schema.graphql (an entity with a key,
classified fields, @listSize on lists), repository.ts, seed.ts, index.ts (resolvers and DataLoaders)
and data-products.yaml (a data product that passes every governance rule), and registers it in
supergraph.yaml with the next free port. Existing files are never overwritten; running it again
only adds what is missing.`,
    positionals: [{ name: 'name', description: 'the domain: lowercase letters and digits (folder, subgraph and database name)' }],
    options: {
      entity: { type: 'string', value: 'Type', description: "the example entity's type name (default: the domain's singular, capitalised)" },
      port: { type: 'string', value: 'N', description: 'its default port (default: the next free one after those in supergraph.yaml)' },
      root: { type: 'string', value: 'DIR', description: 'the repository to add it to: holds supergraph.yaml and subgraphs/ (default: this one)' },
    },
    examples: ['npm run new-domain -- inventory --entity StockItem', 'npm run compose && npm start'],
  }, args);
  const result = await scaffoldDomain({
    root: values.root ?? REPOSITORY,
    name: positionals[0]!,
    entity: values.entity,
    port: values.port === undefined ? undefined : Number(values.port),
  });
  const { names } = result;
  for (const file of result.written) io.out(`  created   ${file}`);
  for (const file of result.kept) io.out(`  kept      ${file} (already there)`);
  io.out(result.registered ? `  registered ${names.domain} in supergraph.yaml on port ${result.port}` : `  supergraph.yaml already lists ${names.domain} (port ${result.port})`);
  const where = relative(process.cwd(), result.dir) || '.';
  const next: [string, string][] = [
    ['npm run compose', 'composes it with the others and runs the governance rules'],
    ['npm start', `starts it with the mesh (on port ${result.port}; ${names.domain.toUpperCase()}_PORT overrides it)`],
    [`npm run check -- ${names.domain}`, 'before changing its schema: what would the change break?'],
  ];
  const width = Math.max(...next.map(([c]) => c.length));
  io.out(
    [
      '',
      `Domain ${names.domain} is ready in ${where}: entity ${names.entity}, root fields ${names.one} and ${names.many}, data product ${names.product}.`,
      'Next:',
      ...next.map(([command, why]) => `  ${command.padEnd(width)}  # ${why}`),
      'Then replace the example entity with your own (schema, repository, seed, descriptor), and put your',
      "team and contacts in data-products.yaml.",
    ].join('\n'),
  );
  return 0;
}

if (isCliEntry(import.meta.url)) {
  main(process.argv.slice(2), processIo).then(
    (code) => {
      if (code) process.exit(code);
    },
    (error: Error) => {
      console.error(`error: ${error.stack ?? error.message}`);
      process.exit(1);
    },
  );
}
