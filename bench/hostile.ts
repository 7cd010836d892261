/**
 * `npm run bench -- --hostile`: the "Safe to expose" scenario. Starts the mesh (our gateway and
 * the five subgraphs, as `npm start` does), then sends each kind of hostile request while probing
 * `/health`, and reports per kind: the answers' status and code, the time to the refusal, the worst
 * `/health` latency meanwhile, and afterwards whether every domain answers a small query, and the
 * gateway's memory against its fresh level. Every answer is checked: a kind whose answers are not
 * the expected coded refusal is reported as FAILED. Results: bench/hostile-results.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memory, spawnChild, freePort, waitUntil } from './processes.js';
import { governanceEnv, mintClientToken } from './auth.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const REPEAT = 10;

interface Kind {
  name: string;
  /** The request body (or a thunk for a raw one), and headers. */
  body: string;
  headers?: Record<string, string>;
  /** What a refusal looks like: HTTP status and error code. */
  status: number;
  code: string;
}

const fragmentDoubling = (n: number) =>
  `query { product(id: "1") { ...F${n} } }\nfragment F0 on Product { name price }\n` +
  Array.from({ length: n }, (_, i) => `fragment F${i + 1} on Product { ...F${i} ...F${i} }`).join('\n');

const json = (query: string, extra: Record<string, unknown> = {}) => JSON.stringify({ query, ...extra });

function kinds(token: string): Kind[] {
  const auth = { authorization: `Bearer ${token}` };
  return [
    { name: 'fragment doubling x30 (1.3 KB)', body: json(fragmentDoubling(30)), status: 400, code: 'MAX_HEIGHT_LIMIT' },
    { name: '10,000 aliases', body: json(`{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: product(id: "1") { name }`).join(' ')} }`), status: 400, code: 'GRAPHQL_PARSE_FAILED' },
    { name: '1,400 copies of one field', body: json(`{ ${Array.from({ length: 1_400 }, () => 'product(id: "1") { name }').join(' ')} }`), status: 400, code: 'MAX_HEIGHT_LIMIT' },
    { name: '5,000 copies of one leaf', body: json(`{ product(id: "1") { ${'name '.repeat(5_000)}} }`), status: 400, code: 'MAX_FIELD_REPETITIONS_LIMIT' },
    { name: 'nesting 10,000 deep', body: json(`{${'a{'.repeat(10_000)}b${'}'.repeat(10_001)}`), status: 400, code: 'GRAPHQL_PARSE_FAILED' },
    { name: 'depth 120', body: json(`{ products(first: 1) { ${'category { products(first: 1) { '.repeat(60)}name${' } }'.repeat(60)} } }`), status: 400, code: 'MAX_DEPTH_LIMIT' },
    {
      name: 'fan-out products x500x100x100 (anonymous)',
      body: json('{ products(first: 500) { category { products(first: 100) { category { products(first: 100) { name } } } } } }'),
      status: 400,
      code: 'COST_ESTIMATED_TOO_EXPENSIVE',
    },
    {
      name: 'fan-out customers x500 orders x100 (token)',
      body: json('{ customers(first: 500) { orders(first: 100) { customer { orders(first: 100) { customer { orders(first: 100) { id } } } } } } }'),
      headers: auth,
      status: 400,
      code: 'COST_ESTIMATED_TOO_EXPENSIVE',
    },
    { name: 'unknown operation name', body: json('query A { products(first: 1) { name } }', { operationName: 'B' }), status: 400, code: 'OPERATION_RESOLUTION_FAILURE' },
    { name: 'two anonymous operations', body: json('{ products(first: 1) { name } } { products(first: 1) { id } }'), status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'invalid JSON', body: '{"query": "{ products { name } }"', status: 400, code: 'BAD_REQUEST' },
    { name: 'body over 2 MB', body: json(`# ${'x'.repeat(2_100_000)}\n{ products(first: 1) { name } }`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  ];
}

interface KindResult {
  kind: string;
  expected: string;
  answers: string[];
  ok: boolean;
  refusalMs: { median: number; max: number };
  worstHealthMs: number;
}

async function send(url: string, kind: Kind): Promise<{ ms: number; status: number; code: string }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...kind.headers }, body: kind.body });
  const text = await response.text();
  let code = '';
  try {
    code = String(JSON.parse(text).errors?.[0]?.extensions?.code ?? '');
  } catch {
    code = 'not JSON';
  }
  return { ms: performance.now() - started, status: response.status, code };
}

/** Probes /health every 25 ms until stopped; returns the worst latency seen. */
function healthProbe(url: string): { stop(): Promise<number> } {
  let worst = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(url).then((r) => r.text()).catch(() => '');
      worst = Math.max(worst, performance.now() - started);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return worst;
    },
  };
}

/** The gateway's own resident memory (start-mesh runs it in-process; the subgraphs are its children). */
function gatewayRss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;

export async function runHostile(): Promise<void> {
  const work = join(ROOT, 'bench/results/tmp/hostile');
  mkdirSync(work, { recursive: true });
  const port = await freePort();
  const base = await freePort();
  const mesh = spawnChild('mesh', process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/cli/start-mesh.ts'), '--port', String(port), '--subgraph-port-base', String(base + 10), '--data-dir', join(work, 'data')], {
    env: { ...governanceEnv(), LOG_LEVEL: 'error' },
    logFile: join(work, 'mesh.log'),
    cwd: ROOT,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(mesh, 'the mesh', async () => (await fetch(`${url}/health`).catch(() => null))?.ok === true, 180_000);
    const token = await mintClientToken('hostile');
    const small = async () => {
      const started = performance.now();
      const r = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: json('{ customer(id: "42") { region orders(first: 1) { id invoice { number } lines { product { name } } } segment { name } } }'),
      });
      const body = (await r.json()) as { data?: unknown; errors?: unknown[] };
      if (!r.ok || body.errors || !body.data) throw new Error(`small query failed: ${r.status} ${JSON.stringify(body).slice(0, 300)}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 50; i++) await small();
    const fresh = gatewayRss(mesh.pid);
    const meshFresh = memory(mesh.pid).rss;

    const results: KindResult[] = [];
    for (const kind of kinds(token)) {
      const probe = healthProbe(`${url}/health`);
      const answers: { ms: number; status: number; code: string }[] = [];
      for (let i = 0; i < REPEAT; i++) answers.push(await send(`${url}/graphql`, kind));
      const worstHealthMs = await probe.stop();
      const seen = [...new Set(answers.map((a) => `${a.status} ${a.code}`))];
      const ok = seen.length === 1 && seen[0] === `${kind.status} ${kind.code}`;
      results.push({
        kind: kind.name,
        expected: `${kind.status} ${kind.code}`,
        answers: seen,
        ok,
        refusalMs: { median: round(median(answers.map((a) => a.ms))), max: round(Math.max(...answers.map((a) => a.ms))) },
        worstHealthMs: round(worstHealthMs),
      });
    }
    // Afterwards: every domain answers (the small query touches all five), and memory settles.
    const afterMs: number[] = [];
    for (let i = 0; i < 20; i++) afterMs.push(await small());
    let after = gatewayRss(mesh.pid);
    for (let i = 0; i < 30 && after > fresh * 1.25; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      await small();
      after = gatewayRss(mesh.pid);
    }
    const report = {
      date: new Date().toISOString(),
      repeat: REPEAT,
      kinds: results,
      afterwards: { smallQueryMedianMs: round(median(afterMs)), smallQueryMaxMs: round(Math.max(...afterMs)) },
      memory: {
        gateway: { freshMiB: round(fresh / 1048576), afterMiB: round(after / 1048576), ratio: Math.round((after / fresh) * 100) / 100 },
        wholeMesh: { freshMiB: round(meshFresh / 1048576), afterMiB: round(memory(mesh.pid).rss / 1048576) },
      },
    };
    writeFileSync(join(ROOT, 'bench/hostile-results.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log('| request kind | expected | answered | refusal median / max (ms) | worst /health (ms) |');
    console.log('|---|---|---|--:|--:|');
    for (const r of results) {
      console.log(`| ${r.kind} | ${r.expected} | ${r.ok ? 'ok' : `FAILED: ${r.answers.join(', ')}`} | ${r.refusalMs.median} / ${r.refusalMs.max} | ${r.worstHealthMs} |`);
    }
    console.log(`\nafterwards: a five-domain query in ${report.afterwards.smallQueryMedianMs} ms (median), ${report.afterwards.smallQueryMaxMs} ms (max)`);
    const m = report.memory;
    console.log(`gateway RSS: fresh ${m.gateway.freshMiB} MiB, after ${m.gateway.afterMiB} MiB (${m.gateway.ratio}x); whole mesh ${m.wholeMesh.freshMiB} → ${m.wholeMesh.afterMiB} MiB`);
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await mesh.stop();
  }
}
