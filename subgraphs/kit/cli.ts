/**
 * The command line of one domain subgraph, for any list of domains:
 * `<entry> <domain> [--port N] [--db FILE] [--scale N]`. The kit knows no domain itself: the entry
 * point (subgraphs/cli.ts, run by `npm run subgraph`) passes the registry's list.
 */
import { cliUsageExitCode, parseCliOrThrow, processIo, type CliIo } from '../mesh/cli-args.js';
import { SettingsError } from '../mesh/numbers.js';
import { startTracing } from '../mesh/tracing.js';
import type { Domain } from './domain.js';
import { subgraphSettings } from './settings.js';
import { startSubgraph } from './subgraph-server.js';

function domainByName(domains: readonly Domain[], name: string): Domain {
  const domain = domains.find((d) => d.name === name);
  if (!domain) throw new Error(`Unknown subgraph "${name}". Known: ${domains.map((d) => d.name).join(', ')}`);
  return domain;
}

/** The subgraph CLI's logic: runs until SIGINT/SIGTERM (`--help` and usage errors are thrown). */
export async function subgraphMain(domains: readonly Domain[], args: string[]): Promise<void> {
  const { values, positionals } = parseCliOrThrow(
    {
      usage: 'npm run subgraph -- <domain> [--port N] [--db FILE] [--scale N]',
      summary: `Runs one domain as a federation subgraph over HTTP (/graphql, /health, /metrics, /data-products),
on its own database (created and seeded on first start): a SQLite file, or the PostgreSQL database
of <DOMAIN>_DATABASE_URL. It answers only requests that carry the gateway's signed identity
(MESH_SIGNING_KEY). Environment: <DOMAIN>_PORT, <DOMAIN>_DB, DATA_DIR, <DOMAIN>_DATABASE_URL,
<DOMAIN>_DATABASE_POOL_SIZE / MESH_DATABASE_POOL_SIZE, MESH_SCALE, MESH_SEED.`,
      positionals: [{ name: 'domain', description: `one of: ${domains.map((d) => d.name).join(', ')}` }],
      options: {
        port: { type: 'string', value: 'N', description: "port (default: <DOMAIN>_PORT, else the routing_url's in supergraph.yaml)" },
        host: { type: 'string', value: 'HOST', description: 'interface (default: HOST, else 127.0.0.1)' },
        db: { type: 'string', value: 'FILE', description: 'database file (default: <DOMAIN>_DB, else <data-dir>/<domain>.db)' },
        'data-dir': { type: 'string', value: 'DIR', description: 'where the databases are (default: DATA_DIR, else ./data)' },
        scale: { type: 'string', value: 'N', description: 'seed size (env MESH_SCALE; default 1)' },
        seed: { type: 'string', value: 'N', description: 'seed of the generated data (env MESH_SEED)' },
      },
      examples: ['npm run subgraph -- sales --port 4003 --db ./data/sales.db'],
    },
    args,
  );
  const domain = domainByName(domains, positionals[0]!);
  const settings = subgraphSettings(domain, { ...values, dataDir: values['data-dir'] });
  // OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) says where to send spans.
  const tracing = await startTracing({ serviceName: `${domain.name}-subgraph` });
  const subgraph = await startSubgraph(domain, settings).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new SettingsError(`port ${settings.port} is already in use; choose another with ${domain.name.toUpperCase()}_PORT or --port`);
    }
    throw error;
  });
  const stop = async () => {
    await subgraph.close();
    // The spans still queued are exported before the process ends.
    await tracing?.shutdown().catch(() => {});
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by `npm start`: if that supervisor goes away, so do we.
  if (process.send) process.once('disconnect', stop);
}

/** Runs the subgraph named on the command line (one of `domains`) until SIGINT/SIGTERM; exits 1 on error. */
export function runSubgraphCli(domains: readonly Domain[], args: string[] = process.argv.slice(2)): void {
  subgraphMain(domains, args).catch((error: Error) => {
    process.exit(subgraphErrorExitCode(error, processIo));
  });
}

/** The exit code of an error of subgraphMain, printed to `io`: 0 after --help, 2 for a usage error, else 1. */
export function subgraphErrorExitCode(error: Error, io: CliIo): number {
  const code = cliUsageExitCode(error, io);
  if (code !== undefined) return code;
  io.err(`error: ${error.message}`);
  return 1;
}
