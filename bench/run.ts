/**
 * `npm run bench`: our gateway against plain Apollo Gateway and Hive Gateway, on the same
 * composed supergraph over the same five subgraphs (real HTTP, one process each).
 *
 *   npm run bench                       full run → bench/results.json + bench/results.svg
 *   npm run bench -- --quick            a few seconds, ours + apollo, → bench/results/tmp/quick-results.json
 *   npm run bench -- --profile          ours only, under `node --cpu-prof`: prints where its CPU goes
 *   npm run bench -- --hostile          hostile requests: refusals, /health meanwhile, memory → bench/hostile-results.json
 *   npm run bench -- --cold-start       process start → first answer, ours vs Apollo, tsx and compiled (bench/cold-start.ts)
 *   npm run bench -- --workers 1,2      throughput of ours with --workers 1 and 2 (bench/workers.ts)
 *
 * Options: --gateways ours,apollo,hive,hive-dedup  --queries lookup,deep,wide  --load lookup,deep,wide  --duration S
 *          --warmup S  --connections N  --callers same,unique,distinct  --max-attempts N  --quiet-wait S  --scale S
 *          --data-dir DIR  --work-dir DIR  --out FILE  --svg FILE
 * (--profile honours --callers, --queries, --duration and --connections.)
 *
 * Each gateway runs alone in its own child process, one after another; its CPU and memory are
 * read from /proc. Every query is sent once per gateway before load and must come back without
 * `errors` and with the same data from every gateway; under load any non-2xx, socket error,
 * timeout or GraphQL error invalidates the run (exit code 1, `valid: false` in the results).
 * Quick mode checks answers, not speed: its short load window stays open until enough answers were
 * checked, so a slow gateway on a busy machine is not mistaken for a broken one (see loadWindow).
 */
import autocannon from 'autocannon';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli } from '../subgraphs/mesh/cli-args.js';
import { buildCompiled, type CompiledBuild } from './compiled-build.js';
import { BENCH_CLAIMS, BENCH_SCOPES, baselineSubgraphHeaders, governanceEnv, IDENTITY_HEADER, mintClientToken } from './auth.js';
import { cpuSeconds, freePort, machineBusySeconds, memory, MemorySampler, procAvailable, spawnChild, waitUntil, type Child } from './processes.js';
import { formatProfileSummary, summariseProfile } from './profile.js';
import { QUERIES, requestBody, uniqueRequestBody, type BenchQuery } from './queries.js';
import { formatReport, renderChart, type BenchResults, type Callers, type CheckResult, type GatewayInfo, type LoadResult, type Ratio } from './results.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HIVE_DIR = join(ROOT, 'bench/hive');
const HIVE_BIN = join(HIVE_DIR, 'node_modules/@graphql-hive/gateway/dist/bin.js');
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The gateways under test

interface LaunchContext {
  /** The supergraph as composed (ours strips the SECURITY link purposes itself). */
  supergraphFile: string;
  /** The same supergraph without `for: SECURITY` on its links (what the others can load). */
  strippedSupergraphFile: string;
  port: number;
  clientToken: string;
  subgraphHeaders: Record<string, string>;
  profileDir?: string;
  /** The compiled forms (full runs: as deployed); absent: TypeScript through tsx. */
  compiled?: CompiledBuild;
}

interface GatewaySpec {
  id: string;
  label: string;
  description: string;
  needsHive?: boolean;
  /** Has no governance of its own: relays the client's `x-mesh-identity` to the subgraphs (distinct callers). */
  relaysClientIdentity?: boolean;
  version(): string;
  launch(ctx: LaunchContext): { command: string; args: string[]; env: Record<string, string>; cwd?: string };
  clientHeaders(ctx: LaunchContext): Record<string, string>;
}

interface DistinctCaller {
  token: string;
  /** The signed identity our gateway would forward for this caller (relayed by the others). */
  identity: string;
}

/** One user per connection: own token, own subject, so nothing in flight may be shared between them. */
async function distinctCallers(n: number): Promise<DistinctCaller[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const subject = `bench-caller-${i + 1}`;
      return { token: await mintClientToken(subject), identity: (await baselineSubgraphHeaders(subject))[IDENTITY_HEADER]! };
    }),
  );
}

function callerHeadersFor(spec: GatewaySpec, caller: DistinctCaller): Record<string, string> {
  return { authorization: `Bearer ${caller.token}`, ...(spec.relaysClientIdentity ? { [IDENTITY_HEADER]: caller.identity } : {}) };
}

/**
 * Every gateway gets the same bearer token: ours verifies it, the others ignore it (Hive's inbound
 * deduplication key includes it, as ours does).
 */
const bearer = (ctx: LaunchContext) => ({ authorization: `Bearer ${ctx.clientToken}` });

const readVersion = (packageJson: string) => {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

const GATEWAYS: GatewaySpec[] = [
  {
    id: 'ours',
    label: 'ours',
    description: 'this project’s gateway (gateway/cli/gateway.ts), with governance if present; client sends a bearer token',
    version: () => `${readVersion(join(ROOT, 'package.json'))} (${gitCommit()})`,
    launch: (ctx) => ({
      command: process.execPath,
      args: [
        ...(ctx.profileDir ? ['--cpu-prof', '--cpu-prof-dir', ctx.profileDir] : []),
        ...(ctx.compiled ? [join(ctx.compiled.ours, 'gateway/cli/gateway.js')] : ['--import', 'tsx', join(ROOT, 'gateway/cli/gateway.ts')]),
        '--supergraph',
        ctx.supergraphFile,
        '--port',
        String(ctx.port),
        '--host',
        '127.0.0.1',
      ],
      env: { ...governanceEnv(), LOG_LEVEL: 'warn' },
    }),
    clientHeaders: bearer,
  },
  {
    id: 'apollo',
    label: 'Apollo Gateway',
    description: 'plain @apollo/gateway + @apollo/server (startStandaloneServer), no governance (bench/apollo-gateway.ts)',
    version: () => `@apollo/gateway ${readVersion(join(ROOT, 'node_modules/@apollo/gateway/package.json'))}, @apollo/server ${readVersion(join(ROOT, 'node_modules/@apollo/server/package.json'))}`,
    relaysClientIdentity: true,
    launch: (ctx) => ({
      command: process.execPath,
      args: [...(ctx.compiled ? [ctx.compiled.apollo] : ['--import', 'tsx', join(ROOT, 'bench/apollo-gateway.ts')]), '--supergraph', ctx.strippedSupergraphFile, '--port', String(ctx.port)],
      env: { APOLLO_TELEMETRY_DISABLED: 'true', BENCH_SUBGRAPH_HEADERS: JSON.stringify(ctx.subgraphHeaders) },
    }),
    clientHeaders: bearer,
  },
  {
    id: 'hive',
    label: 'Hive Gateway',
    description: 'Hive Gateway with its defaults (bench/hive/defaults.config.mjs only adds the subgraph identity header)',
    needsHive: true,
    relaysClientIdentity: true,
    version: () => `@graphql-hive/gateway ${readVersion(join(HIVE_DIR, 'node_modules/@graphql-hive/gateway/package.json'))}`,
    launch: (ctx) => hiveLaunch(ctx, false),
    clientHeaders: bearer,
  },
  {
    id: 'hive-dedup',
    label: 'Hive Gateway (jit+dedup)',
    description: 'Hive Gateway as its own benchmark runs it: --jit and inboundInflightRequestDeduplication: true',
    needsHive: true,
    relaysClientIdentity: true,
    version: () => `@graphql-hive/gateway ${readVersion(join(HIVE_DIR, 'node_modules/@graphql-hive/gateway/package.json'))}`,
    launch: (ctx) => hiveLaunch(ctx, true),
    clientHeaders: bearer,
  },
];

function hiveLaunch(ctx: LaunchContext, dedup: boolean) {
  return {
    command: process.execPath,
    args: [
      HIVE_BIN,
      'supergraph',
      ctx.strippedSupergraphFile,
      '--host',
      '127.0.0.1',
      '--port',
      String(ctx.port),
      '--config-path',
      join(HIVE_DIR, dedup ? 'dedup.config.mjs' : 'defaults.config.mjs'),
      ...(dedup ? ['--jit'] : []),
    ],
    env: { BENCH_SUBGRAPH_HEADERS: JSON.stringify(ctx.subgraphHeaders) },
    cwd: HIVE_DIR,
  };
}

/** Installs bench/hive from its lockfile on first use. */
function ensureHiveInstalled(): void {
  if (existsSync(HIVE_BIN)) return;
  console.log('installing Hive Gateway into bench/hive (npm ci, first use only)…');
  const result = spawnSync('npm', ['ci', '--prefix', HIVE_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(HIVE_BIN)) throw new Error('npm ci in bench/hive failed; see the output above');
}

// ---------------------------------------------------------------------------------------------
// Helpers

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

/** JSON with object keys sorted, so field order never makes two equal answers differ. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

interface Subgraph {
  name: string;
  url: string;
  metricsUrl: string;
  child: Child;
}

type Metrics = Record<string, { sql: number; requests: number }>;

async function readMetrics(subgraphs: Subgraph[]): Promise<Metrics> {
  const entries = await Promise.all(
    subgraphs.map(async (s) => {
      // Generous: on a loaded machine a subgraph may still be working off the load window's backlog.
      const text = await fetch(s.metricsUrl, { signal: AbortSignal.timeout(60_000) }).then((r) => r.text());
      const num = (metric: string) => Number(new RegExp(`^${metric}\\{[^}]*\\}\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      return [s.name, { sql: num('subgraph_sql_statements_total'), requests: num('subgraph_graphql_requests_total') }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Metrics once in-flight requests have drained (two equal reads in a row). */
async function settledMetrics(subgraphs: Subgraph[]): Promise<Metrics> {
  let last = await readMetrics(subgraphs);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    const next = await readMetrics(subgraphs);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}

function delta(before: Metrics, after: Metrics) {
  const perSubgraph: Record<string, { sqlStatements: number; requests: number }> = {};
  let sql = 0;
  let requests = 0;
  for (const name of Object.keys(after)) {
    const d = { sqlStatements: after[name]!.sql - before[name]!.sql, requests: after[name]!.requests - before[name]!.requests };
    perSubgraph[name] = d;
    sql += d.sqlStatements;
    requests += d.requests;
  }
  return { sql, requests, perSubgraph };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// One load measurement

/** Other processes busier than this (% of a core) during a measurement make it disturbed. */
const DISTURBED_PERCENT = 15;

function otherCpuPercentNow(pids: number[], seconds: number): Promise<number> {
  const machine0 = machineBusySeconds();
  const ours0 = cpuSeconds(pids);
  const own0 = process.cpuUsage();
  return new Promise((resolve) =>
    setTimeout(() => {
      const own = process.cpuUsage(own0);
      const other = machineBusySeconds() - machine0 - (cpuSeconds(pids) - ours0) - (own.user + own.system) / 1e6;
      resolve(Math.max(0, (other / seconds) * 100));
    }, seconds * 1000),
  );
}

/** Waits (up to `maxSeconds`) until other processes leave the machine alone. */
async function waitForQuietMachine(pids: number[], maxSeconds: number): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000;
  let announced = false;
  while (Date.now() < deadline) {
    const other = await otherCpuPercentNow(pids, 1);
    if (other < DISTURBED_PERCENT / 2) return;
    if (!announced) console.log(`  (other processes use ${other.toFixed(0)}% of a core; waiting for a quiet machine…)`);
    announced = true;
  }
}

/** How long quick mode waits for each answer, and beyond its window for the answers it needs. */
const QUICK_PATIENCE_SECONDS = 120;

/**
 * One load window. A full run measures exactly `--duration`: a gateway that completes nothing in it
 * is reported at 0 req/s (and the run is invalid). Quick mode checks answers, not speed: on a busy
 * machine a slow gateway may complete nothing in its short window, so the window stays open until
 * at least `--connections` answers came back and were checked (`verifyBody`), or an error ended the
 * run's validity anyway; each request may take up to QUICK_PATIENCE_SECONDS. The figures describe
 * the window as it really was (its duration, its answers), never a padded one.
 */
async function loadWindow(options: Parameters<typeof autocannon>[0], s: Settings): Promise<{ result: Awaited<ReturnType<typeof autocannon>>; extended: boolean }> {
  if (!s.quick) return { result: await autocannon({ ...options, duration: s.duration }), extended: false };
  const instance = autocannon({ ...options, duration: s.duration + QUICK_PATIENCE_SECONDS, timeout: QUICK_PATIENCE_SECONDS });
  let answers = 0;
  let errors = 0;
  let windowOver = false;
  let extended = false;
  const stopWhenChecked = () => {
    if (windowOver && (answers >= s.connections || errors > 0)) instance.stop();
  };
  instance.on('response', () => {
    answers++;
    stopWhenChecked();
  });
  instance.on('reqError', () => {
    errors++;
    stopWhenChecked();
  });
  const timer = setTimeout(() => {
    windowOver = true;
    extended = answers < s.connections && errors === 0;
    stopWhenChecked();
  }, s.duration * 1000);
  try {
    return { result: await instance, extended };
  } finally {
    clearTimeout(timer);
  }
}

async function measureLoad(a: {
  s: Settings;
  url: string;
  headers: Record<string, string>;
  /** Per-connection headers (distinct callers: one user each), or undefined: every connection sends `headers`. */
  callerHeaders?: Record<string, string>[];
  /** Every request's body differs (an unused `extensions` entry): the unique-body scenario. */
  uniqueBodies?: boolean;
  query: BenchQuery;
  expectedBody: string | undefined;
  gatewayPid: number;
  subgraphs: Subgraph[];
  subgraphPids: number[];
  sampler: MemorySampler;
  /** Notes a remark about this measurement for the results' warnings. */
  warn?: (message: string) => void;
}): Promise<Omit<LoadResult, 'gateway' | 'query' | 'callers'>> {
  const { s, query: q, expectedBody } = a;
  let graphqlErrors = 0;
  let differing = 0;
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...a.headers };
  let connection = 0;
  let sequence = 0;
  const options = {
    url: a.url,
    method: 'POST',
    headers,
    body: requestBody(q),
    connections: s.connections,
    ...(a.uniqueBodies ? { requests: [{ setupRequest: (request: { body?: string }) => ({ ...request, body: uniqueRequestBody(q, ++sequence) }) }] } : {}),
    // Distinct callers: each connection is another user, so no two requests in flight share credentials.
    ...(a.callerHeaders
      ? {
          setupClient: (client: { setHeaders(h: Record<string, string>): void }) => {
            client.setHeaders({ ...headers, ...a.callerHeaders![connection++ % a.callerHeaders!.length] });
          },
        }
      : {}),
    verifyBody: (body: string) => {
      if (body === expectedBody) return true;
      // A body split mid-character across TCP chunks can differ harmlessly; errors cannot hide.
      if (body.includes('"errors":')) {
        graphqlErrors++;
        return false;
      }
      differing++;
      return true;
    },
  };
  const allPids = [a.gatewayPid, ...a.subgraphPids];
  let attempts = 0;
  for (;;) {
    attempts++;
    if (s.maxAttempts > 1) await waitForQuietMachine(allPids, s.quietWait);
    if (s.warmup > 0) await autocannon({ ...options, duration: s.warmup });
    graphqlErrors = 0;
    differing = 0;
    connection = 0;
    const m0 = await settledMetrics(a.subgraphs);
    a.sampler.takePeak();
    const cpuGw0 = cpuSeconds([a.gatewayPid]);
    const cpuSub0 = cpuSeconds(a.subgraphPids);
    const machine0 = machineBusySeconds();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    const { result, extended } = await loadWindow(options, s);
    if (extended) a.warn?.(`quick mode: fewer than ${s.connections} answers in the ${s.duration} s window; it stayed open until they came (${round(result.duration, 1)} s)`);
    const wall = (performance.now() - t0) / 1000;
    const own = process.cpuUsage(own0);
    const ownCpu = (own.user + own.system) / 1e6;
    const machineCpu = machineBusySeconds() - machine0;
    const gwCpu = cpuSeconds([a.gatewayPid]) - cpuGw0;
    const subCpu = cpuSeconds(a.subgraphPids) - cpuSub0;
    const peak = a.sampler.takePeak();
    const d = delta(m0, await settledMetrics(a.subgraphs));
    const sent = result.requests.sent || result.requests.total || 1;
    const load = {
      attempts,
      durationSeconds: round(result.duration, 2),
      connections: s.connections,
      requests: result.requests.total,
      requestsPerSecond: round(result.requests.total / result.duration, 1),
      latencyMs: {
        p50: round(result.latency.p50),
        p90: round(result.latency.p90),
        p99: round(result.latency.p99),
        mean: round(result.latency.mean),
        max: round(result.latency.max),
      },
      non2xx: result.non2xx,
      socketErrors: result.errors - result.timeouts,
      timeouts: result.timeouts,
      graphqlErrors,
      bodiesDiffering: differing,
      gatewayCpuPercent: round((gwCpu / wall) * 100, 1),
      subgraphsCpuPercent: round((subCpu / wall) * 100, 1),
      loadGeneratorCpuPercent: round((ownCpu / wall) * 100, 1),
      otherCpuPercent: round((Math.max(0, machineCpu - gwCpu - subCpu - ownCpu) / wall) * 100, 1),
      requestsPerGatewayCpuSecond: round(gwCpu > 0 ? result.requests.total / gwCpu : 0, 1),
      peakRssMiB: round(peak / MiB, 1),
      sqlStatementsPerOperation: round(d.sql / sent, 2),
      subgraphRequestsPerOperation: round(d.requests / sent, 2),
    };
    if (load.otherCpuPercent <= DISTURBED_PERCENT || attempts >= s.maxAttempts) return load;
    console.log(`  (${q.id}: other processes used ${load.otherCpuPercent}% of a core during the measurement; measuring again)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Main


interface Settings {
  quick: boolean;
  /** Gateways and subgraphs run compiled (full runs), not through tsx (--quick, --profile, --tsx). */
  compiled: boolean;
  callers: Callers[];
  maxAttempts: number;
  /** Seconds to wait for other processes to calm down before each measurement (full mode). */
  quietWait: number;
  profile: boolean;
  connections: number;
  duration: number;
  warmup: number;
  scale: number;
  gateways: GatewaySpec[];
  queries: BenchQuery[];
  /** The queries measured under load (the rest are checked, one request each). */
  loaded: BenchQuery[];
  dataDir: string;
  workDir: string;
  out: string;
  svg: string;
}

const CLI = {
  usage: 'npm run bench -- [--quick | --profile | --hostile] [options]',
  summary: `Benchmarks our gateway against plain Apollo Gateway and Hive Gateway on the same composed
supergraph over the same subgraphs (real HTTP, one process each), with autocannon. Every answer is
checked against the others; any error invalidates the run (exit code 1). Full run: bench/results.json
and bench/results.svg. --quick: a few seconds, ours and apollo, answers checked, timings not.
--profile: ours only, under node --cpu-prof. --hostile: hostile requests (refusals, /health, memory).`,
  options: {
    quick: { type: 'boolean', default: false, description: 'a short run that checks answers (used by the tests)' },
    tsx: { type: 'boolean', default: false, description: 'run TypeScript through tsx instead of the compiled build (--quick and --profile always do)' },
    profile: { type: 'boolean', default: false, description: 'ours only, under node --cpu-prof: prints where its CPU goes' },
    hostile: { type: 'boolean', default: false, description: 'the hostile-requests scenario → bench/hostile-results.json' },
    'cold-start': { type: 'boolean', default: false, description: 'cold start vs Apollo Gateway, tsx and compiled → bench/cold-start-results.json (--cold-start --help)' },
    workers: { type: 'string', value: 'LIST', description: 'throughput with --workers 1,2 → bench/workers-results.json (--workers 1,2 --help)' },
    gateways: { type: 'string', value: 'LIST', description: `comma-separated: ${GATEWAYS.map((g) => g.id).join(', ')}` },
    queries: { type: 'string', value: 'LIST', description: `comma-separated: ${QUERIES.map((q) => q.id).join(', ')}` },
    load: { type: 'string', value: 'LIST', description: 'which of the queries to load (default: all but the scaling-only ones); the others are checked only' },
    duration: { type: 'string', value: 'S', description: 'seconds of load per measurement' },
    warmup: { type: 'string', value: 'S', description: 'seconds of warm-up before each measurement' },
    connections: { type: 'string', value: 'N', description: 'concurrent connections' },
    scale: { type: 'string', value: 'N', default: '1', description: 'seed size of the subgraphs\' databases' },
    callers: { type: 'string', value: 'LIST', default: 'same,unique,distinct', description: 'one caller (same token), one caller with a unique body per request, and/or distinct callers' },
    'max-attempts': { type: 'string', value: 'N', description: 'measurements per cell before giving up on a quiet machine' },
    'quiet-wait': { type: 'string', value: 'S', description: 'longest wait for the machine to be quiet before measuring' },
    'data-dir': { type: 'string', value: 'DIR', description: 'where the benchmark databases are' },
    'work-dir': { type: 'string', value: 'DIR', description: 'logs and temporary files' },
    out: { type: 'string', value: 'FILE', description: 'results JSON' },
    svg: { type: 'string', value: 'FILE', description: 'results chart' },
  },
  examples: ['npm run bench -- --quick', 'npm run bench -- --gateways ours,hive --queries deep --duration 5'],
} as const;

function readSettings(argv: string[]): Settings {
  const { values } = parseCli(CLI, argv);
  const quick = values.quick!;
  const profile = values.profile!;
  const number = (value: string | undefined, fallback: number, name: string) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${value}"`);
    return n;
  };
  const defaultGateways = profile ? 'ours' : quick ? 'ours,apollo' : GATEWAYS.map((g) => g.id).join(',');
  const gateways = (values.gateways ?? defaultGateways).split(',').map((id) => {
    const spec = GATEWAYS.find((g) => g.id === id.trim());
    if (!spec) throw new Error(`unknown gateway "${id}"; choose from ${GATEWAYS.map((g) => g.id).join(', ')}`);
    return spec;
  });
  const queryIds = values.queries?.split(',').map((s) => s.trim());
  const queries = queryIds
    ? queryIds.map((id) => {
        const q = QUERIES.find((x) => x.id === id);
        if (!q) throw new Error(`unknown query "${id}"; choose from ${QUERIES.map((x) => x.id).join(', ')}`);
        return q;
      })
    : QUERIES;
  const loadIds = values.load?.split(',').map((s) => s.trim());
  for (const id of loadIds ?? []) if (!queries.some((q) => q.id === id)) throw new Error(`--load: "${id}" is not one of the queries (${queries.map((q) => q.id).join(', ')})`);
  const loaded = queries.filter((q) => (loadIds ? loadIds.includes(q.id) : !q.scalingOnly));
  const workDir = resolve(values['work-dir'] ?? join(ROOT, 'bench/results/tmp'));
  const out = resolve(values.out ?? (quick || profile ? join(workDir, 'quick-results.json') : join(ROOT, 'bench/results.json')));
  const callers = values.callers!.split(',').map((c) => {
    if (c !== 'same' && c !== 'distinct' && c !== 'unique') throw new Error(`--callers takes same, unique and/or distinct, got "${c}"`);
    return c as Callers;
  });
  return {
    quick,
    compiled: !quick && !profile && !values.tsx,
    profile,
    callers,
    maxAttempts: Math.max(1, number(values['max-attempts'], quick ? 1 : 3, 'max-attempts')),
    quietWait: number(values['quiet-wait'], 60, 'quiet-wait'),
    connections: number(values.connections, quick ? 10 : 50, 'connections'),
    duration: number(values.duration, quick ? 1 : 10, 'duration'),
    warmup: number(values.warmup, quick ? 0.5 : 3, 'warmup'),
    scale: number(values.scale, 1, 'scale'),
    gateways,
    queries,
    loaded,
    dataDir: resolve(values['data-dir'] ?? join(workDir, 'data')),
    workDir,
    out,
    svg: resolve(values.svg ?? out.replace(/\.json$/, '') + '.svg'),
  };
}

async function main() {
  // The scale-out scenarios parse their own options.
  // Each scenario's modules (and composition's) load when it runs: --help needs none of them.
  if (process.argv.includes('--cold-start')) return (await import('./cold-start.js')).runColdStart(process.argv.slice(2));
  if (process.argv.some((a) => a === '--workers' || a.startsWith('--workers='))) return (await import('./workers.js')).runWorkers(process.argv.slice(2));
  // The "Safe to expose" scenario is its own run: hostile requests, refusals, /health, memory.
  if (parseCli(CLI).values.hostile) return (await import('./hostile.js')).runHostile();
  const s = readSettings(process.argv.slice(2));
  if (!procAvailable()) throw new Error('the benchmark reads CPU and memory from /proc (Linux only)');
  const logDir = join(s.workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(s.dataDir, { recursive: true });
  if (s.gateways.some((g) => g.needsHive)) ensureHiveInstalled();

  const children: Child[] = [];
  const stopAll = () => Promise.all(children.splice(0).map((c) => c.stop().catch(() => {})));
  const onSignal = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const loadAverageAtStart = loadavg().map((x) => round(x));
  try {
    // 1. Subgraphs, each in its own process.
    const [{ loadSupergraphConfig }, { composeSubgraphs, loadSubgraphSchemas }, { stripSecurityLinkPurposes }] = await Promise.all([
      import('../gateway/config/supergraph-config.js'),
      import('../gateway/composition/compose-supergraph.js'),
      import('../gateway/authorization/strip-security-links.js'),
    ]);
    const config = loadSupergraphConfig(join(ROOT, 'supergraph.yaml'));
    if (s.profile) rmSync(join(s.workDir, 'profile', 'subgraphs'), { recursive: true, force: true });
    // Full runs measure what is deployed: compiled JavaScript (ours: npm run build), not tsx.
    const compiled = s.compiled ? buildCompiled(s.workDir) : undefined;
    const started = performance.now();
    console.log(`starting ${config.subgraphs.length} subgraphs (scale ${s.scale}, data in ${relative(ROOT, s.dataDir) || '.'})…`);
    const subgraphs: Subgraph[] = await Promise.all(
      config.subgraphs.map(async ({ name }) => {
        const port = await freePort();
        const child = spawnChild(
          `subgraph ${name}`,
          process.execPath,
          [
            // --profile: the subgraphs too (under distinct callers they are most of the machine's CPU).
            ...(s.profile ? ['--cpu-prof', '--cpu-prof-dir', join(s.workDir, 'profile', 'subgraphs', name)] : []),
            ...(compiled ? [join(compiled.ours, 'subgraphs/cli.js')] : ['--import', 'tsx', join(ROOT, 'subgraphs/cli.ts')]),
            name, '--port', String(port), '--host', '127.0.0.1', '--db', join(s.dataDir, `${name}.db`), '--scale', String(s.scale),
          ],
          // As deployed: NODE_ENV=production (graphql-js skips its development-only checks).
          { env: { ...governanceEnv(), NODE_ENV: 'production', LOG_LEVEL: 'warn' }, logFile: join(logDir, `subgraph-${name}.log`), cwd: ROOT },
        );
        children.push(child);
        const base = `http://127.0.0.1:${port}`;
        await waitUntil(child, 'healthy', () => fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok), 600_000);
        return { name, url: `${base}/graphql`, metricsUrl: `${base}/metrics`, child };
      }),
    );
    console.log(`subgraphs up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // 2. One composed supergraph for every gateway.
    const routingUrls = Object.fromEntries(subgraphs.map((x) => [x.name, x.url]));
    const { supergraphSdl } = composeSubgraphs(await loadSubgraphSchemas(config, { routingUrls }));
    const supergraphFile = join(s.workDir, 'supergraph.graphql');
    const strippedSupergraphFile = join(s.workDir, 'supergraph.no-security-purposes.graphql');
    writeFileSync(supergraphFile, supergraphSdl);
    writeFileSync(strippedSupergraphFile, stripSecurityLinkPurposes(supergraphSdl));

    const clientToken = await mintClientToken();
    const distinct = await distinctCallers(s.connections);
    const subgraphHeaders = await baselineSubgraphHeaders();
    const subgraphPids = subgraphs.map((x) => x.child.pid);

    if (s.profile) return await profileOurs(s, { supergraphFile, strippedSupergraphFile, clientToken, subgraphHeaders }, children);

    const problems: string[] = [];
    const warnings: string[] = [];
    const gatewayInfos: GatewayInfo[] = [];
    const checks: CheckResult[] = [];
    const loads: LoadResult[] = [];
    const reference = new Map<string, { gateway: string; data: string }>();

    // 3. Each gateway alone, one after another.
    const launchGateway = async (spec: GatewaySpec) => {
      const port = await freePort();
      const ctx: LaunchContext = { supergraphFile, strippedSupergraphFile, port, clientToken, subgraphHeaders, compiled };
      const launch = spec.launch(ctx);
      const startedAt = performance.now();
      const child = spawnChild(`gateway ${spec.id}`, launch.command, launch.args, {
        env: { NODE_ENV: 'production', ...launch.env },
        cwd: launch.cwd ?? ROOT,
        logFile: join(logDir, `gateway-${spec.id}.log`),
      });
      children.push(child);
      const url = `http://127.0.0.1:${port}/graphql`;
      const headers = spec.clientHeaders(ctx);
      // Seconds from spawn to the first answer.
      const ready = waitUntil(child, 'ready', async () => (await post(url, JSON.stringify({ query: '{ __typename }' }), headers)).status === 200, 120_000).then(
        () => round((performance.now() - startedAt) / 1000, 1),
      );
      ready.catch(() => {}); // awaited when its turn comes
      return { child, url, headers, ready };
    };
    // Quick mode checks answers, not speed: every gateway process starts at once (their starts
    // overlap), and each is then checked and loaded alone in turn. A full run starts each gateway
    // only once the previous one has stopped, so that nothing else runs beside the one measured.
    const prelaunched = s.quick ? await Promise.all(s.gateways.map(launchGateway)) : undefined;
    for (const [index, spec] of s.gateways.entries()) {
      const { child, url, headers, ready } = prelaunched?.[index] ?? (await launchGateway(spec));
      console.log(`\n== ${spec.label} (${spec.version()})`);
      let startSeconds: number;
      try {
        startSeconds = await ready;
      } catch (error) {
        problems.push(`${spec.id}: did not start: ${(error as Error).message.split('\n')[0]}`);
        console.error((error as Error).message);
        await child.stop();
        children.splice(children.indexOf(child), 1);
        continue;
      }
      const info: GatewayInfo = {
        id: spec.id,
        label: spec.label,
        description: spec.description,
        version: spec.version(),
        startSeconds,
        idleRssMiB: round(memory(child.pid).rss / MiB, 1),
        lifetimePeakRssMiB: 0,
      };
      if (spec.id === 'ours') {
        const probe = await post(url, JSON.stringify({ query: '{ __typename }' }), { authorization: 'Bearer not-a-valid-token' });
        info.governance = probe.status === 401 ? 'active' : 'inactive';
        console.log(`governance: ${info.governance} (a bad token got HTTP ${probe.status})`);
      }
      gatewayInfos.push(info);
      const sampler = new MemorySampler(child.pid);

      // 3a. Correctness and exact per-operation work, one request at a time.
      const expected = new Map<string, string>();
      for (const q of s.queries) {
        const body = requestBody(q);
        const first = await post(url, body, headers).catch((e: Error) => ({ status: 0, text: e.message }));
        const before = await readMetrics(subgraphs);
        const second = await post(url, body, headers).catch((e: Error) => ({ status: 0, text: e.message }));
        const d = delta(before, await readMetrics(subgraphs));
        let problem: string | undefined;
        let data: string | undefined;
        try {
          const parsed = JSON.parse(second.text) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
          if (second.status !== 200) problem = `HTTP ${second.status}`;
          if (parsed.errors?.length) problem = `errors: ${parsed.errors.slice(0, 3).map((e) => `${e.extensions?.code ?? ''} ${e.message}`.trim()).join('; ')}`;
          else if (parsed.data == null) problem = 'no data';
          data = canonical(parsed.data);
        } catch {
          problem = `HTTP ${second.status}, not JSON: ${second.text.slice(0, 200)}`;
        }
        let same = true;
        if (!problem && data) {
          const ref = reference.get(q.id);
          if (!ref) reference.set(q.id, { gateway: spec.id, data });
          else if (ref.data !== data) {
            same = false;
            problem = `data differs from ${ref.gateway}'s`;
          }
        }
        if (problem) problems.push(`${spec.id} / ${q.id}: ${problem}`);
        mkdirSync(join(s.workDir, 'responses'), { recursive: true });
        writeFileSync(join(s.workDir, 'responses', `${spec.id}-${q.id}.json`), second.text);
        if (!problem && first.text === second.text) expected.set(q.id, second.text);
        checks.push({
          gateway: spec.id,
          query: q.id,
          status: second.status,
          ok: !problem,
          ...(problem ? { problem } : {}),
          responseBytes: Buffer.byteLength(second.text),
          sameDataAsReference: same,
          sqlStatementsPerOperation: d.sql,
          subgraphRequestsPerOperation: d.requests,
          perSubgraph: d.perSubgraph,
        });
        console.log(
          `  check ${q.id.padEnd(7)} ${problem ? `FAILED: ${problem}` : 'ok'}  ${(Buffer.byteLength(second.text) / 1024).toFixed(1)} KB, ` +
            `${d.requests} subgraph fetches, ${d.sql} SQL statements`,
        );
      }

      // 3b. Load, query after query, for each caller scenario.
      for (const callers of s.callers) {
        for (const q of s.loaded) {
          if (checks.some((c) => c.gateway === spec.id && c.query === q.id && !c.ok)) continue;
          const tag = `${spec.id} / ${q.id} / ${callers === 'unique' ? 'one caller, unique bodies' : `${callers} caller${callers === 'same' ? '' : 's'}`}`;
          const load = await measureLoad({ s, url, headers, callerHeaders: callers === 'distinct' ? distinct.map((c) => callerHeadersFor(spec, c)) : undefined, uniqueBodies: callers === 'unique', query: q, expectedBody: expected.get(q.id), gatewayPid: child.pid, subgraphs, subgraphPids, sampler, warn: (m) => warnings.push(`${tag}: ${m}`) });
          loads.push({ gateway: spec.id, query: q.id, callers, ...load });
          if (load.otherCpuPercent > DISTURBED_PERCENT) {
            warnings.push(`${tag}: other processes used ${load.otherCpuPercent}% of a core during the measurement (after ${load.attempts} attempts); figures are disturbed`);
          }
          const bad = load.non2xx + load.socketErrors + load.timeouts + load.graphqlErrors;
          if (bad) problems.push(`${tag} under load: ${load.non2xx} non-2xx, ${load.socketErrors} socket errors, ${load.timeouts} timeouts, ${load.graphqlErrors} GraphQL errors`);
          if (load.requests === 0) problems.push(`${tag}: no request completed under load`);
          console.log(
            `  load  ${q.id.padEnd(7)} ${callers.padEnd(8)} ${load.requestsPerSecond.toFixed(1).padStart(8)} req/s  p50 ${load.latencyMs.p50} ms  p99 ${load.latencyMs.p99} ms  ` +
              `CPU ${load.gatewayCpuPercent}% (subgraphs ${load.subgraphsCpuPercent}%, other ${load.otherCpuPercent}%)  peak RSS ${load.peakRssMiB.toFixed(0)} MiB${bad ? `  ${bad} ERRORS` : ''}`,
          );
        }
      }
      sampler.stop();
      info.lifetimePeakRssMiB = round(memory(child.pid).hwm / MiB, 1);
      await child.stop();
      children.splice(children.indexOf(child), 1);
    }

    // 4. Results.
    const loadOf = (g: string, q: string, c: Callers) => loads.find((l) => l.gateway === g && l.query === q && l.callers === c);
    const rpsOf = (g: string, q: string, c: Callers) => loadOf(g, q, c)?.requestsPerSecond;
    const ratios: Ratio[] = s.callers.flatMap((callers) =>
      s.queries
        .filter((q) => s.loaded.includes(q) && rpsOf('ours', q.id, callers) !== undefined)
        .map((q) => {
          const ratio = (other: string) => {
            const a = rpsOf('ours', q.id, callers);
            const b = rpsOf(other, q.id, callers);
            return a && b ? round(a / b, 3) : null;
          };
          const ours = loadOf('ours', q.id, callers)?.peakRssMiB;
          const apollo = loadOf('apollo', q.id, callers)?.peakRssMiB;
          const rssOursOverApollo = ours && apollo ? round(ours / apollo, 3) : null;
          return { query: q.id, callers, oursOverApollo: ratio('apollo'), oursOverHive: ratio('hive'), oursOverHiveDedup: ratio('hive-dedup'), rssOursOverApollo };
        }),
    );
    const wideQueries = s.queries.filter((q) => q.operationName === 'WideList').sort((a, b) => Number(a.variables.first) - Number(b.variables.first));
    const sqlScaling =
      wideQueries.length > 1
        ? gatewayInfos.map((g) => {
            const rows = wideQueries.map((q) => {
              const c = checks.find((x) => x.gateway === g.id && x.query === q.id);
              return { customers: Number(q.variables.first), sqlStatementsPerOperation: c?.sqlStatementsPerOperation ?? NaN, subgraphRequestsPerOperation: c?.subgraphRequestsPerOperation ?? NaN };
            });
            return { gateway: g.id, rows, flat: rows.every((r) => r.sqlStatementsPerOperation === rows[0]!.sqlStatementsPerOperation) };
          })
        : [];
    for (const x of sqlScaling) if (!x.flat) problems.push(`${x.gateway}: SQL statements per operation grow with the list size (${x.rows.map((r) => r.sqlStatementsPerOperation).join(' → ')})`);

    const results: BenchResults = {
      schema: 'data-mesh-bench/1',
      date: new Date().toISOString(),
      mode: s.quick ? 'quick' : 'full',
      valid: problems.length === 0,
      problems,
      warnings,
      machine: {
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        cores: cpus().length,
        memoryGiB: round(totalmem() / 1024 ** 3, 1),
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        kernel: release(),
        loadAverageAtStart,
      },
      settings: { connections: s.connections, durationSeconds: s.duration, warmupSeconds: s.warmup, scale: s.scale, callers: s.callers, commit: gitCommit(), compiled: s.compiled },
      auth: { scopes: BENCH_SCOPES, claims: BENCH_CLAIMS },
      gateways: gatewayInfos,
      queries: s.queries.map((q) => ({ id: q.id, title: q.title, short: q.short, description: q.description, variables: q.variables, loaded: s.loaded.includes(q) })),
      checks,
      load: loads,
      ratios,
      sqlScaling,
    };
    mkdirSync(dirname(s.out), { recursive: true });
    writeFileSync(s.out, JSON.stringify(results, null, 2) + '\n');
    writeFileSync(s.svg, renderChart(results));
    console.log('\n' + formatReport(results));
    console.log(`\nwrote ${relative(process.cwd(), s.out)} and ${relative(process.cwd(), s.svg)}`);
    if (!results.valid) process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

/** `--profile`: our gateway under `node --cpu-prof` through the load, then a self-time summary. */
async function profileOurs(
  s: Settings,
  files: { supergraphFile: string; strippedSupergraphFile: string; clientToken: string; subgraphHeaders: Record<string, string> },
  children: Child[],
): Promise<void> {
  const profileDir = join(s.workDir, 'profile', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(profileDir, { recursive: true });
  const spec = GATEWAYS.find((g) => g.id === 'ours')!;
  const port = await freePort();
  const ctx: LaunchContext = { ...files, port, profileDir };
  const launch = spec.launch(ctx);
  const child = spawnChild('gateway ours (profiled)', launch.command, launch.args, {
    env: { NODE_ENV: 'production', ...launch.env },
    cwd: ROOT,
    logFile: join(s.workDir, 'logs', 'gateway-ours-profile.log'),
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}/graphql`;
  const headers = spec.clientHeaders(ctx);
  await waitUntil(child, 'ready', async () => (await post(url, JSON.stringify({ query: '{ __typename }' }), headers)).status === 200);
  const distinct = (await distinctCallers(s.connections)).map((c) => callerHeadersFor(spec, c));
  for (const callers of s.callers) {
    for (const q of s.loaded) {
      let connection = 0;
      const base = { 'content-type': 'application/json', accept: 'application/json', ...headers };
      const result = await autocannon({
        url,
        method: 'POST',
        headers: base,
        body: requestBody(q),
        connections: s.connections,
        duration: s.duration,
        ...(callers === 'distinct'
          ? { setupClient: (client: { setHeaders(h: Record<string, string>): void }) => client.setHeaders({ ...base, ...distinct[connection++ % distinct.length] }) }
          : {}),
        ...(callers === 'unique' ? { requests: [{ setupRequest: (request: { body?: string }) => ({ ...request, body: uniqueRequestBody(q, ++connection) }) }] } : {}),
      });
      console.log(`  ${q.id} (${callers} callers): ${(result.requests.total / result.duration).toFixed(1)} req/s (profiling slows it down), ${result.non2xx} non-2xx`);
    }
  }
  await child.stop();
  children.splice(children.indexOf(child), 1);
  summariseProfileDir(profileDir, 'gateway ours', 30);
  // The subgraphs' profiles are written as they exit.
  await Promise.all(children.splice(0).map((c) => c.stop().catch(() => {})));
  const subgraphsDir = join(s.workDir, 'profile', 'subgraphs');
  for (const name of readdirSync(subgraphsDir).sort()) summariseProfileDir(join(subgraphsDir, name), `subgraph ${name}`, 15);
}

/** Prints (and writes to summary.txt) the self-time summary of the main thread's profile in `dir`. */
function summariseProfileDir(dir: string, what: string, top: number): void {
  // One profile per thread (tsx's module hooks run in their own): the main thread's is the largest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (!file) throw new Error(`no .cpuprofile written in ${dir} (did ${what} exit cleanly on SIGTERM?)`);
  const text = formatProfileSummary(summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), top));
  writeFileSync(join(dir, 'summary.txt'), text + '\n');
  console.log(`\n== ${what}\n${text}\n\nprofile: ${relative(process.cwd(), join(dir, file))}`);
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
