/**
 * `npm start`: the whole mesh on one machine. Every domain subgraph runs as its own process on its
 * own port with its own SQLite file (created and seeded on first start); the gateway composes
 * supergraph.yaml against the ports actually used and serves the graph and the explorer.
 *
 *   npm start -- [--port 4000] [--subgraph-port-base 4001] [--data-dir ./data] [--scale 1]
 * The same settings can come from the environment: GATEWAY_PORT, <DOMAIN>_PORT, <DOMAIN>_DB,
 * DATA_DIR, MESH_SCALE, MESH_SEED.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { relative } from 'node:path';
import { parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { entryPoint } from '../../subgraphs/mesh/entry-point.js';
import type { SubgraphSettings } from '../../subgraphs/kit/settings.js';
import { parseNumber } from '../../subgraphs/mesh/numbers.js';
import { SUPERGRAPH_YAML } from '../../subgraphs/supergraph-file.js';
import type { RunningGateway } from '../server/gateway-server.js';
import { GATEWAY_SERVICE_NAME } from '../server/service-name.js';
import { runCli } from './run-cli.js';

// subgraphs/cli.ts under tsx, subgraphs/cli.js in the compiled build (npm run build).
const SUBGRAPH_CLI = entryPoint('../../subgraphs/cli.ts', import.meta.url);

export async function main(args: string[], _io: CliIo): Promise<number | void> {
  const { values } = parseCliOrThrow({
    usage: 'npm start -- [--port 4000] [--subgraph-port-base 4001] [--data-dir ./data] [--scale 1] [--seed N]',
    summary: `Runs the whole mesh on one machine: every domain of supergraph.yaml as its own subgraph process
with its own SQLite database (created and seeded on first start), then the gateway, composed against
the ports actually used. Prints the URLs; Ctrl-C stops everything. Environment: GATEWAY_PORT,
<DOMAIN>_PORT, <DOMAIN>_DB, DATA_DIR, MESH_SCALE, MESH_SEED, and the gateway's settings (README).`,
    options: {
      port: { type: 'string', value: 'N', default: process.env.GATEWAY_PORT ?? '4000', description: "the gateway's port (env GATEWAY_PORT)" },
      host: { type: 'string', value: 'HOST', default: process.env.HOST ?? '127.0.0.1', description: 'interface for the gateway and the subgraphs (env HOST)' },
      // The registry's own file (the domains started are its): beside the code, in the source tree or in dist/.
      config: { type: 'string', value: 'FILE', default: relative(process.cwd(), SUPERGRAPH_YAML) || SUPERGRAPH_YAML, description: 'the subgraphs to start and compose' },
      'subgraph-port-base': { type: 'string', value: 'N', description: "the first subgraph's port, the others follow (default: each routing_url's port, or <DOMAIN>_PORT)" },
      'data-dir': { type: 'string', value: 'DIR', description: 'where the databases are (default: DATA_DIR, else ./data)' },
      scale: { type: 'string', value: 'N', description: 'seed size: 1 = 5,000 customers, 1,000 products, 50,000 orders (env MESH_SCALE)' },
      seed: { type: 'string', value: 'N', description: 'seed of the generated data (env MESH_SEED)' },
    },
  }, args);
  const base = values['subgraph-port-base'] && parseNumber(values['subgraph-port-base'], '--subgraph-port-base', { integer: true });
  // Loaded once the options are parsed: --help and a usage error need none of it.
  const [{ DOMAINS }, { subgraphSettings }, { describeUrl }, { gatewayConfigFromEnv }, { startTracing }] = await Promise.all([
    import('../../subgraphs/registry.js'),
    import('../../subgraphs/kit/settings.js'),
    import('../../subgraphs/kit/postgres-database.js'),
    import('../config/gateway-config.js'),
    import('../../subgraphs/mesh/tracing.js'),
  ]);
  const planned = DOMAINS.map((domain, i) => ({
    domain,
    settings: subgraphSettings(domain, {
      port: base ? String(base + i) : undefined,
      host: values.host,
      dataDir: values['data-dir'],
      scale: values.scale,
      seed: values.seed,
    }),
  }));

  // Read and validated before anything starts: a misspelt setting stops here, naming itself.
  const developmentWarnings: string[] = [];
  const config = gatewayConfigFromEnv(process.env, (m) => developmentWarnings.push(m));
  console.log(`starting ${planned.length} subgraphs (first start creates and seeds their databases)…`);
  // OpenTelemetry for the gateway (this process); each subgraph process starts its own from the same variables.
  const tracing = await startTracing({ serviceName: GATEWAY_SERVICE_NAME });
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await gateway?.close().catch(() => {});
    await Promise.all(children.map((child) => stopChild(child)));
    await tracing?.shutdown().catch(() => {});
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void gateway?.reload('SIGHUP'));

  let gateway: RunningGateway | undefined;
  // Whatever fails from here on, no subgraph process is left behind.
  try {
    const subgraphsUp = Promise.all(
      planned.map(async ({ domain, settings }) => {
        const child = spawnSubgraph(domain.name, settings);
        children.push(child);
        child.once('exit', (code, signal) => {
          if (!stopping && gateway) console.error(`subgraph ${domain.name} exited (${signal ?? `code ${code}`}); the gateway keeps serving the other domains`);
        });
        await waitForHealth(`http://${settings.host}:${settings.port}/health`, child, domain.name);
      }),
    );
    // The gateway's modules load while the subgraphs start (seconds each way), not before them.
    const gatewayModules = Promise.all([import('../server/gateway-server.js'), import('../supergraph/supergraph-source.js')]);
    gatewayModules.catch(() => {}); // awaited below, unless a subgraph failed first
    await subgraphsUp;
    const [{ startGateway }, { loadSupergraph }] = await gatewayModules;
    const routingUrls = Object.fromEntries(planned.map(({ domain, settings }) => [domain.name, `http://${settings.host}:${settings.port}/graphql`]));
    const supergraph = await loadSupergraph(values.config!, { routingUrls });
    const port = parseNumber(values.port!, 'GATEWAY_PORT / --port', { integer: true });
    // Hot reload: an edit to supergraph.yaml or a domain's schema recomposes (with the governance rules).
    const watch = process.env.HOT_RELOAD === 'false' ? undefined : { path: values.config!, routingUrls };
    gateway = await startGateway({ config, supergraph: supergraph.supergraph, port, host: values.host, watch }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new Error(`port ${port} is already in use; choose another with GATEWAY_PORT or --port`);
      throw error;
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    await stopAll(1);
    return;
  }
  const routingUrls = Object.fromEntries(planned.map(({ domain, settings }) => [domain.name, `http://${settings.host}:${settings.port}/graphql`]));

  const rows = planned.map(({ domain, settings }) => `  ${domain.name.padEnd(10)} ${routingUrls[domain.name]}  (${settings.database ? `PostgreSQL ${describeUrl(settings.database.url)}` : settings.dbPath})`);
  console.log(
    [
      '',
      `Data mesh is up.`,
      `  gateway    ${gateway.graphqlUrl}`,
      `  explorer   ${gateway.url}/   (open in a browser)`,
      `subgraphs:`,
      ...rows,
      '',
      ...(developmentWarnings.length
        ? [
            '',
            '!!! DEVELOPMENT ONLY !!!',
            ...developmentWarnings.map((w) => `  ${w}`),
            '  Set JWT_SECRET (or JWKS_URL / JWKS_FILE) and MESH_SIGNING_KEY before exposing this mesh.',
            '  Development tokens: npm run token -- --scope "customers:pii:read sales:read" --claim department=finance',
          ]
        : []),
      '',
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
}

runCli(main, import.meta.url);

function spawnSubgraph(name: string, s: SubgraphSettings): ChildProcess {
  const args = [...SUBGRAPH_CLI.execArgv, SUBGRAPH_CLI.file, name, '--port', String(s.port), '--host', s.host, '--db', s.dbPath, '--scale', String(s.scale), '--seed', String(s.seed)];
  // Subgraph logs go to this console. The IPC channel lets a child notice if we die without
  // stopping it (e.g. SIGKILL), so no orphan keeps its port. OTEL_SERVICE_NAME names the gateway
  // only: each subgraph keeps its own name (<domain>-subgraph).
  const { OTEL_SERVICE_NAME: _gatewayOnly, ...env } = process.env;
  return spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
}

async function waitForHealth(url: string, child: ChildProcess, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`subgraph ${name} exited during start (code ${child.exitCode}); see its log above`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`subgraph ${name} did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
