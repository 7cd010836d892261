/**
 * Runs the gateway alone, in front of subgraphs that run anywhere:
 *   npm run gateway -- --supergraph supergraph.graphql --port 4000
 * `--supergraph` takes a composed SDL file (from any tool) or a supergraph.yaml to compose at start;
 * `--supergraph-url` a URL serving an SDL, polled with ETag every `--poll-interval` (10s).
 * Hot reload (HOT_RELOAD=false turns it off): a changed file, a new SDL at the URL, or SIGHUP
 * swaps the supergraph without a restart. SIGTERM drains requests in flight, then exits 0.
 * `--workers N` (env GATEWAY_WORKERS): N such processes sharing the port (gateway-workers.ts).
 */
import cluster from 'node:cluster';
import { parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { parseNumber } from '../../subgraphs/mesh/numbers.js';
import { announceWorkerReady, runPrimary } from './gateway-workers.js';
import { runCli } from './run-cli.js';

export async function main(args: string[], _io: CliIo): Promise<number | void> {
  const { values } = parseCliOrThrow({
    usage: 'npm run gateway -- [--supergraph FILE | --supergraph-url URL] [--port N] [--host HOST] [--workers N]',
    summary: `Runs the gateway alone, in front of subgraphs that run anywhere: from a composed supergraph
SDL (ours, Rover's, GraphOS's) or a supergraph.yaml it composes at start. Governance settings come
from the environment (JWT_SECRET or JWKS_URL / JWKS_FILE, MESH_SIGNING_KEY, AUTHZ_MODE, POLICIES_FILE,
GATEWAY_CONFIG, MESH_USAGE_DB); see the README's Configuration.`,
    options: {
      supergraph: { type: 'string', value: 'FILE', default: process.env.SUPERGRAPH ?? 'supergraph.yaml', description: 'a supergraph SDL file, or a supergraph.yaml to compose (env SUPERGRAPH)' },
      port: { type: 'string', value: 'N', default: process.env.GATEWAY_PORT ?? '4000', description: 'port to listen on, 0 for any free one (env GATEWAY_PORT)' },
      host: { type: 'string', value: 'HOST', default: process.env.HOST ?? '127.0.0.1', description: 'interface to listen on (env HOST)' },
      'supergraph-url': { type: 'string', value: 'URL', default: process.env.SUPERGRAPH_URL, description: 'a URL serving a supergraph SDL, polled with ETag for hot reload (env SUPERGRAPH_URL)' },
      workers: { type: 'string', value: 'N', default: process.env.GATEWAY_WORKERS ?? '1', description: 'gateway processes sharing the port (node:cluster); a dead one is restarted (env GATEWAY_WORKERS)' },
      'poll-interval': { type: 'string', value: 'DURATION', default: process.env.SUPERGRAPH_POLL_INTERVAL ?? '10s', description: 'how often --supergraph-url is polled (env SUPERGRAPH_POLL_INTERVAL)' },
    },
    examples: ['npm run gateway -- --supergraph supergraph.graphql --port 4000'],
  }, args);
  const workers = parseNumber(values.workers!, 'GATEWAY_WORKERS / --workers', { integer: true, min: 1 });
  // The primary of --workers N forks and supervises; each worker runs everything below.
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers);
  // Loaded only here: the primary of --workers N never loads the gateway (seconds of module loading
  // before it can fork), only the processes that serve do.
  const [{ startTracing }, { GATEWAY_SERVICE_NAME, startGateway }, { parseDuration }, { Supergraph }, { loadSupergraph }] = await Promise.all([
    import('../../subgraphs/mesh/tracing.js'),
    import('../server/gateway-server.js'),
    import('../config/gateway-settings.js'),
    import('../supergraph/supergraph.js'),
    import('../supergraph/supergraph-source.js'),
  ]);
  const url = values['supergraph-url'];
  const supergraph = url ? { supergraph: Supergraph.fromSdl(await fetchSdl(url)), origin: url } : await loadSupergraph(values.supergraph!);
  const hotReload = process.env.HOT_RELOAD !== 'false';
  // OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) says where to send spans.
  const tracing = await startTracing({ serviceName: GATEWAY_SERVICE_NAME });
  const gateway = await startGateway({
    supergraph: supergraph.supergraph,
    port: parseNumber(values.port!, 'GATEWAY_PORT / --port', { integer: true }),
    host: values.host,
    watch: hotReload ? (url ? { url, pollIntervalMs: parseDuration(values['poll-interval']!, 'environment', 'SUPERGRAPH_POLL_INTERVAL / --poll-interval') } : { path: values.supergraph! }) : undefined,
  });
  process.on('SIGHUP', () => void gateway.reload('SIGHUP'));
  const stop = async () => {
    await gateway.close();
    // The spans still queued are exported before the process ends.
    await tracing?.shutdown().catch(() => {});
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Announced only once a signal can stop it cleanly: a supervisor may stop it right after this line.
  const ready = `gateway ready: ${gateway.graphqlUrl} (explorer: ${gateway.url}/) from ${supergraph.origin}`;
  if (cluster.isWorker) {
    // A worker stops with its primary, even one killed without passing a signal on.
    process.once('disconnect', stop);
    announceWorkerReady(ready);
  } else console.log(ready);
}

runCli(main, import.meta.url);

async function fetchSdl(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  return response.text();
}
