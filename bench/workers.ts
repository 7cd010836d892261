/**
 * `npm run bench -- --workers 1,2`: throughput of our gateway (compiled, production settings) with
 * `--workers N` on this machine, one N after another, over the same subgraphs. Distinct callers
 * (one user per connection), so no two requests in flight share an execution: what is measured is
 * the gateway's own work spread over N processes. Every answer is checked; an error or a differing
 * body invalidates the run. On a machine whose cores are shared with the load generator and the
 * subgraphs, more workers need not mean more throughput: the figures say what they say.
 *
 *   npm run bench -- --workers 1,2 [--queries lookup,deep] [--duration 10] [--connections 50]
 *   → bench/workers-results.json
 */
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseCli } from '../subgraphs/mesh/cli-args.js';
import { governanceEnv, mintClientToken } from './auth.js';
import { ROOT, startBenchMesh } from './bench-mesh.js';
import { cpuSeconds, freePort, machineBusySeconds, spawnChild, waitUntil, type Child } from './processes.js';
import { QUERIES, requestBody } from './queries.js';

export interface WorkersResults {
  schema: 'data-mesh-workers/1';
  date: string;
  valid: boolean;
  problems: string[];
  machine: { cores: number; cpuModel: string; node: string; loadAverageAtStart: number[] };
  settings: { connections: number; durationSeconds: number; warmupSeconds: number; scale: number; callers: 'distinct' };
  load: { workers: number; query: string; requestsPerSecond: number; p50Ms: number; p99Ms: number; gatewayCpuPercent: number; machineCpuPercent: number; errors: number }[];
}

export async function runWorkers(argv: string[]): Promise<void> {
  const { values } = parseCli(
    {
      usage: 'npm run bench -- --workers 1,2 [--queries lookup,deep] [--duration S] [--warmup S] [--connections N] [--scale S]',
      summary: 'Throughput of our compiled gateway with --workers N, distinct callers, answers checked.',
      options: {
        workers: { type: 'string', value: 'LIST', default: '1,2', description: 'worker counts to measure, one after another' },
        queries: { type: 'string', value: 'LIST', default: 'lookup,deep', description: `comma-separated: ${QUERIES.map((q) => q.id).join(', ')}` },
        duration: { type: 'string', value: 'S', default: '10', description: 'seconds of load per measurement' },
        warmup: { type: 'string', value: 'S', default: '3', description: 'seconds of warm-up before each measurement' },
        connections: { type: 'string', value: 'N', default: '50', description: 'concurrent connections (one caller each)' },
        scale: { type: 'string', value: 'S', default: '1', description: "seed size of the subgraphs' databases" },
        'work-dir': { type: 'string', value: 'DIR', description: 'build, logs, databases' },
        out: { type: 'string', value: 'FILE', description: 'results JSON (default bench/workers-results.json)' },
      },
    },
    argv,
  );
  const counts = values.workers!.split(',').map((n) => Number(n));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--workers takes positive integers, got "${values.workers}"`);
  const queries = values.queries!.split(',').map((id) => {
    const q = QUERIES.find((x) => x.id === id.trim());
    if (!q) throw new Error(`unknown query "${id}"`);
    return q;
  });
  const connections = Number(values.connections);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const scale = Number(values.scale);
  const workDir = resolve(values['work-dir'] ?? join(ROOT, 'bench/results/tmp/workers'));
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const dataDir = join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const out = resolve(values.out ?? join(ROOT, 'bench/workers-results.json'));

  console.log('building ours (npm run build)…');
  const build = join(workDir, 'build');
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--out-dir', build], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');

  const loadAverageAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const mesh = await startBenchMesh({ dataDir, workDir, logDir, scale });
  const problems: string[] = [];
  const load: WorkersResults['load'] = [];
  let gateway: Child | undefined;
  try {
    const tokens = await Promise.all(Array.from({ length: connections }, (_, i) => mintClientToken(`bench-caller-${i + 1}`)));
    for (const workers of counts) {
      const port = await freePort();
      gateway = spawnChild(`gateway --workers ${workers}`, process.execPath, [join(build, 'gateway/cli/gateway.js'), '--supergraph', mesh.supergraphFile, '--port', String(port), '--host', '127.0.0.1', '--workers', String(workers)], {
        env: { ...governanceEnv(), NODE_ENV: 'production', LOG_LEVEL: 'warn', HOT_RELOAD: 'false' },
        cwd: ROOT,
        logFile: join(logDir, `gateway-workers-${workers}.log`),
      });
      const url = `http://127.0.0.1:${port}/graphql`;
      const g = gateway;
      await waitUntil(g, 'ready', async () => /gateway ready/.test(g.tail()), 300_000);
      // The primary and its workers: their CPU is the gateway's.
      const pids = [g.pid, ...[...g.tail().matchAll(/pids ([\d, ]+)\)/g)].flatMap((m) => m[1]!.split(', ').map(Number))];
      console.log(`\n== --workers ${workers} (pids ${pids.join(', ')})`);
      for (const q of queries) {
        const body = requestBody(q);
        const headersOf = (i: number) => ({ 'content-type': 'application/json', authorization: `Bearer ${tokens[i % tokens.length]}` });
        const answers = await Promise.all([0, 1].map(async (i) => (await fetch(url, { method: 'POST', headers: headersOf(i), body })).text()));
        const checked = answers[0]!.includes('"errors":') || !answers[0]!.includes('"data":') ? null : answers[0]!;
        if (!checked || answers[0] !== answers[1]) {
          problems.push(`--workers ${workers} / ${q.id}: the check answer was wrong or differed between callers: ${answers[0]!.slice(0, 200)}`);
          continue;
        }
        let errors = 0;
        let connection = 0;
        const options = {
          url,
          method: 'POST' as const,
          body,
          connections,
          setupClient: (client: { setHeaders(h: Record<string, string>): void }) => client.setHeaders(headersOf(connection++)),
          verifyBody: (text: string) => {
            if (text === checked) return true;
            if (text.includes('"errors":')) errors++;
            return !text.includes('"errors":');
          },
        };
        if (warmup > 0) await autocannon({ ...options, duration: warmup });
        connection = 0;
        errors = 0;
        const cpu0 = cpuSeconds(pids);
        const machine0 = machineBusySeconds();
        const t0 = performance.now();
        const result = await autocannon({ ...options, duration });
        const wall = (performance.now() - t0) / 1000;
        const bad = errors + result.non2xx + result.errors + result.timeouts;
        if (bad) problems.push(`--workers ${workers} / ${q.id}: ${result.non2xx} non-2xx, ${result.errors} socket errors, ${result.timeouts} timeouts, ${errors} GraphQL errors`);
        const row = {
          workers,
          query: q.id,
          requestsPerSecond: Math.round((result.requests.total / result.duration) * 10) / 10,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          gatewayCpuPercent: Math.round(((cpuSeconds(pids) - cpu0) / wall) * 100),
          machineCpuPercent: Math.round(((machineBusySeconds() - machine0) / wall) * 100),
          errors: bad,
        };
        load.push(row);
        console.log(`  ${q.id.padEnd(7)} ${row.requestsPerSecond.toFixed(1).padStart(8)} req/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  gateway CPU ${row.gatewayCpuPercent}%  machine ${row.machineCpuPercent}% of ${cpus().length * 100}%`);
      }
      await g.stop();
      gateway = undefined;
    }
  } finally {
    await gateway?.stop();
    await mesh.stop();
  }
  const results: WorkersResults = {
    schema: 'data-mesh-workers/1',
    date: new Date().toISOString(),
    valid: problems.length === 0,
    problems,
    machine: { cores: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.versions.node, loadAverageAtStart },
    settings: { connections, durationSeconds: duration, warmupSeconds: warmup, scale, callers: 'distinct' },
    load,
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  for (const p of problems) console.error(`problem: ${p}`);
  console.log(`\nwrote ${relative(process.cwd(), out)}`);
  if (!results.valid) process.exitCode = 1;
}
