/**
 * The audit trail's cost, measured as a paired A/B that a busy machine cannot bias: two gateways
 * (audit off, audit on) in their own processes in front of the same five subgraphs, loaded at the
 * same time with the same query and the same number of connections, for several rounds. Both get
 * the same machine, whatever else runs on it; what differs is the audit trail. Reports each
 * gateway's throughput and its CPU time per request (from /proc), per round and overall.
 *
 *   npx tsx bench/audit-overhead.ts [--query deep] [--rounds 5] [--duration 15] [--connections 8] [--callers distinct|same]
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken } from '../gateway/authentication/mint-token.js';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { DEV_JWT_SECRET } from '../gateway/config/gateway-config.js';
import { DEV_SIGNING_KEY } from '../subgraphs/mesh/identity.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { BENCH_CLAIMS, BENCH_SCOPES } from './auth.js';
import { freePort, spawnChild, waitUntil, type Child } from './processes.js';
import { QUERIES, requestBody } from './queries.js';

const { values } = parseArgs({
  options: {
    query: { type: 'string', default: 'deep' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '8' },
    callers: { type: 'string', default: 'distinct' },
    // A/A: both gateways without the audit trail, to see how far apart two identical ones measure.
    'a-a': { type: 'boolean', default: false },
    // Each gateway under node --cpu-prof, profiles written here (npx tsx bench/profile.ts FILE).
    'profile-dir': { type: 'string' },
    // Alternate single requests, A then B, instead of loading both at once: CPU per request only.
    sequential: { type: 'string' },
    'data-dir': { type: 'string', default: join(process.cwd(), 'bench/results/tmp/data') },
  },
});
const query = QUERIES.find((q) => q.id === values.query)!;
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const connections = Number(values.connections);
const work = mkdtempSync(join(tmpdir(), 'audit-overhead-'));

const ticks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, clock ticks (1/100 s)
};

const subgraphs: Child[] = [];
// Requests the audited gateway answered under load: each must have left one event in its store.
let answeredByAudited = 0;
const gateways: { id: 'off' | 'on'; child: Child; url: string }[] = [];
const env = { MESH_USAGE_DB: 'off', LOG_LEVEL: 'warn', HOT_RELOAD: 'false', JWT_SECRET: DEV_JWT_SECRET, MESH_SIGNING_KEY: DEV_SIGNING_KEY };
try {
  // Each subgraph in its own process, as in production and in npm run bench.
  const routingUrls: Record<string, string> = {};
  for (const domain of DOMAINS) {
    const port = await freePort();
    const args = ['--import', 'tsx', 'subgraphs/cli.ts', domain.name, '--port', String(port), '--host', '127.0.0.1', '--db', join(values['data-dir']!, `${domain.name}.db`), '--scale', '1'];
    const child = spawnChild(`subgraph ${domain.name}`, process.execPath, args, { env, logFile: join(work, `subgraph-${domain.name}.log`) });
    subgraphs.push(child);
    await waitUntil(child, `subgraph ${domain.name}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok);
    routingUrls[domain.name] = `http://127.0.0.1:${port}/graphql`;
  }
  const { supergraphSdl } = composeSubgraphs(await loadSubgraphSchemas(loadSupergraphConfig('supergraph.yaml'), { routingUrls }));
  const supergraphFile = join(work, 'supergraph.graphql');
  writeFileSync(supergraphFile, supergraphSdl);
  for (const id of ['off', 'on'] as const) {
    const port = await freePort();
    const profile = values['profile-dir'] ? ['--cpu-prof', '--cpu-prof-dir', join(values['profile-dir'], id)] : [];
    const child = spawnChild(`gateway ${id}`, process.execPath, [...profile, '--import', 'tsx', 'gateway/cli/gateway.ts', '--supergraph', supergraphFile, '--port', String(port)], {
      env: { ...env, MESH_AUDIT_DB: id === 'off' || values['a-a'] ? 'off' : join(work, 'audit.db') },
      logFile: join(work, `gateway-${id}.log`),
    });
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(child, `gateway ${id}`, async () => (await fetch(`${url}/health`)).ok);
    gateways.push({ id, child, url });
  }
  const tokens = await Promise.all(
    Array.from({ length: values.callers === 'same' ? 1 : connections }, (_, i) =>
      mintToken({ secret: DEV_JWT_SECRET, subject: `caller-${i}`, scopes: BENCH_SCOPES, claims: BENCH_CLAIMS, expiresIn: '4h' }),
    ),
  );
  const body = requestBody(query);
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const load = (url: string, seconds: number) => {
    // Distinct callers: each connection is another user (in-flight deduplication never shares).
    let connection = 0;
    return autocannon({
      url: `${url}/graphql`,
      connections,
      duration: seconds,
      method: 'POST',
      headers,
      body,
      setupClient: (client: { setHeaders(h: Record<string, string>): void }) => {
        client.setHeaders({ ...headers, authorization: `Bearer ${tokens[connection++ % tokens.length]}` });
      },
    } as never);
  };
  // Every answer checked: both gateways return the same data without errors before any load, and
  // the audited one really records (an audit trail that records nothing would cost nothing).
  const answers = await Promise.all(
    gateways.map(async (g) => {
      const response = await fetch(`${g.url}/graphql`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${tokens[0]}` }, body });
      const json = (await response.json()) as { data?: unknown; errors?: unknown[] };
      if (!response.ok || json.errors?.length || !json.data) throw new Error(`gateway ${g.id} answered ${response.status}: ${JSON.stringify(json.errors ?? json).slice(0, 500)}`);
      return JSON.stringify(json.data);
    }),
  );
  if (answers[0] !== answers[1]) throw new Error('the two gateways returned different data for the same query');
  // Warm-up, both at once.
  await Promise.all(gateways.map((g) => load(g.url, 5)));
  if (values.sequential) {
    // One request at a time, alternating: both gateways see the same machine, request by request.
    const n = Number(values.sequential);
    for (let round = 1; round <= rounds; round++) {
      const before = gateways.map((g) => ticks(g.child.pid));
      const wall = [0, 0];
      for (let i = 0; i < n; i++) {
        for (const [k, g] of gateways.entries()) {
          const t0 = performance.now();
          const response = await fetch(`${g.url}/graphql`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${tokens[i % tokens.length]}` }, body });
          await response.text();
          wall[k]! += performance.now() - t0;
        }
      }
      const after = gateways.map((g) => ticks(g.child.pid));
      console.log(`round ${round}  ${gateways.map((g, k) => `${g.id}: ${(((after[k]! - before[k]!) * 10_000) / n).toFixed(0)} µs CPU/request, ${((wall[k]! * 1000) / n).toFixed(0)} µs latency`).join('  |  ')}`);
    }
    process.exitCode = 0;
  } else {
  const totals = { off: { requests: 0, ticks: 0, seconds: 0 }, on: { requests: 0, ticks: 0, seconds: 0 } };
  for (let round = 1; round <= rounds; round++) {
    const before = gateways.map((g) => ticks(g.child.pid));
    const results = await Promise.all(gateways.map((g) => load(g.url, duration)));
    const after = gateways.map((g) => ticks(g.child.pid));
    const line = gateways.map((g, i) => {
      const r = results[i]!;
      const cpu = after[i]! - before[i]!;
      const ok = r.requests.total - r.non2xx - r.errors;
      totals[g.id].requests += ok;
      totals[g.id].ticks += cpu;
      totals[g.id].seconds += duration;
      return `${g.id}: ${(ok / duration).toFixed(1)} req/s, ${((cpu * 10_000) / Math.max(ok, 1)).toFixed(0)} µs CPU/request, ${r.non2xx + r.errors} errors`;
    });
    console.log(`round ${round}  ${line.join('  |  ')}`);
  }
  const rps = (t: { requests: number; seconds: number }) => t.requests / t.seconds;
  const cpu = (t: { requests: number; ticks: number }) => (t.ticks * 10_000) / t.requests;
  answeredByAudited = totals.on.requests;
  console.log(
    `overall  off: ${rps(totals.off).toFixed(1)} req/s, ${cpu(totals.off).toFixed(0)} µs/request  |  on: ${rps(totals.on).toFixed(1)} req/s, ${cpu(totals.on).toFixed(0)} µs/request  |  throughput on/off ${(rps(totals.on) / rps(totals.off)).toFixed(3)}, CPU per request on/off ${(cpu(totals.on) / cpu(totals.off)).toFixed(3)}`,
  );
  }
} finally {
  const exited = gateways.map((g) => new Promise((done) => (g.child.process.exitCode !== null ? done(null) : g.child.process.once('exit', done))));
  for (const c of [...gateways.map((g) => g.child), ...subgraphs]) c.process.kill('SIGTERM');
  await Promise.all(exited);
}
if (answeredByAudited > 0 && !values['a-a']) {
  // The gateway flushed its journal into the store on SIGTERM: count what it recorded.
  const db = new Database(join(work, 'audit.db'), { readonly: true });
  const { n } = db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number };
  db.close();
  console.log(`audit events in the audited gateway's store: ${n} (requests it answered under load: ${answeredByAudited}, plus warm-up)`);
  if (n < answeredByAudited) throw new Error(`the audited gateway answered ${answeredByAudited} requests but recorded ${n} events`);
}

