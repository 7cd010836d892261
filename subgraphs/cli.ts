/**
 * Runs one domain subgraph: `npm run subgraph -- <domain> [--port N] [--db FILE] [--scale N]`.
 * The kit's CLI with this mesh's domains (the registry); the kit itself imports no domain.
 */
import { isCliEntry, type CliIo } from './mesh/cli-args.js';
import { runSubgraphCli, subgraphErrorExitCode, subgraphMain } from './kit/cli.js';
import { DOMAINS } from './registry.js';

/** In-process (tests): the exit code of a run that ends (help, a usage error, a failed start). */
export async function main(args: string[], io: CliIo): Promise<number | void> {
  return subgraphMain(DOMAINS, args).catch((error: Error) => subgraphErrorExitCode(error, io));
}

if (isCliEntry(import.meta.url)) runSubgraphCli(DOMAINS);
