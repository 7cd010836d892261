/**
 * `npm run bench -- --cold-start`: how long a gateway takes from process start to its first
 * answered query, ours against plain Apollo Gateway on the same supergraph over the same running
 * subgraphs. Each gateway runs as TypeScript through tsx (development) and compiled to JavaScript
 * (ours: `npm run build`; Apollo's bench/apollo-gateway.ts: tsc), in rounds that alternate the
 * variants so a busy moment of the machine hits them all alike. The first answer must be the right
 * one (a customer lookup through the customers subgraph), not merely an open port.
 *
 *   npm run bench -- --cold-start [--runs 7] [--scale 0.1] → bench/cold-start-results.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseCli } from '../subgraphs/mesh/cli-args.js';
import { baselineSubgraphHeaders, governanceEnv, mintClientToken } from './auth.js';
import { ROOT, startBenchMesh } from './bench-mesh.js';
import { buildCompiled } from './compiled-build.js';
import { freePort, spawnChild, type Child } from './processes.js';

interface Variant {
  id: string;
  label: string;
  launch(supergraph: { ours: string; stripped: string }, port: number): { args: string[]; env: Record<string, string> };
  headers: Record<string, string>;
}

export interface ColdStartResults {
  schema: 'data-mesh-cold-start/1';
  date: string;
  machine: { cores: number; cpuModel: string; node: string; loadAverageAtStart: number[] };
  runs: number;
  query: string;
  variants: { id: string; label: string; secondsEach: number[]; medianSeconds: number; minSeconds: number; maxSeconds: number }[];
  ratios: { name: string; value: number }[];
}

const QUERY = JSON.stringify({ query: 'query Lookup($id: ID!) { customer(id: $id) { id fullName } }', variables: { id: '42' } });

export async function runColdStart(argv: string[]): Promise<void> {
  const { values } = parseCli(
    {
      usage: 'npm run bench -- --cold-start [--runs N] [--scale S] [--work-dir DIR] [--out FILE]',
      summary: 'Cold start (process start → first answered query): ours vs plain Apollo Gateway, each through tsx and compiled.',
      options: {
        'cold-start': { type: 'boolean', default: false, description: 'this scenario' },
        runs: { type: 'string', value: 'N', default: '7', description: 'starts per variant (the median is reported)' },
        scale: { type: 'string', value: 'S', default: '0.1', description: "seed size of the subgraphs' databases" },
        'work-dir': { type: 'string', value: 'DIR', description: 'builds, logs, databases' },
        out: { type: 'string', value: 'FILE', description: 'results JSON (default bench/cold-start-results.json)' },
      },
    },
    argv,
  );
  const runs = Math.max(1, Number(values.runs));
  const workDir = resolve(values['work-dir'] ?? join(ROOT, 'bench/results/tmp/cold-start'));
  const logDir = join(workDir, 'logs');
  const dataDir = join(workDir, 'data');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const out = resolve(values.out ?? join(ROOT, 'bench/cold-start-results.json'));

  // The compiled forms, built fresh: ours as `npm run build` does it, Apollo's one file with tsc.
  console.log('building ours (npm run build) and bench/apollo-gateway.ts (tsc)…');
  const compiled = buildCompiled(workDir);

  const mesh = await startBenchMesh({ dataDir, workDir, logDir, scale: Number(values.scale) });
  const children: Child[] = [];
  try {
    const bearer = { authorization: `Bearer ${await mintClientToken()}` };
    const ours = (file: string, tsx: boolean): Variant['launch'] => (supergraph, port) => ({
      args: [...(tsx ? ['--import', 'tsx'] : []), file, '--supergraph', supergraph.ours, '--port', String(port), '--host', '127.0.0.1'],
      env: { ...governanceEnv(), NODE_ENV: 'production', LOG_LEVEL: 'warn' },
    });
    const subgraphHeaders = JSON.stringify(await baselineSubgraphHeaders());
    const apollo = (file: string, tsx: boolean): Variant['launch'] => (supergraph, port) => ({
      args: [...(tsx ? ['--import', 'tsx'] : []), file, '--supergraph', supergraph.stripped, '--port', String(port)],
      env: { NODE_ENV: 'production', APOLLO_TELEMETRY_DISABLED: 'true', BENCH_SUBGRAPH_HEADERS: subgraphHeaders },
    });
    const variants: Variant[] = [
      { id: 'ours-compiled', label: 'ours, compiled (npm run build)', launch: ours(join(compiled.ours, 'gateway/cli/gateway.js'), false), headers: bearer },
      { id: 'apollo-compiled', label: 'Apollo Gateway, compiled', launch: apollo(compiled.apollo, false), headers: bearer },
      { id: 'ours-tsx', label: 'ours, through tsx', launch: ours(join(ROOT, 'gateway/cli/gateway.ts'), true), headers: bearer },
      { id: 'apollo-tsx', label: 'Apollo Gateway, through tsx', launch: apollo(join(ROOT, 'bench/apollo-gateway.ts'), true), headers: bearer },
    ];
    const loadAverageAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
    const seconds = new Map<string, number[]>(variants.map((v) => [v.id, []]));
    for (let round = 1; round <= runs; round++) {
      for (const variant of variants) {
        const port = await freePort();
        const { args, env } = variant.launch({ ours: mesh.supergraphFile, stripped: mesh.strippedSupergraphFile }, port);
        const started = performance.now();
        const child = spawnChild(`gateway ${variant.id}`, process.execPath, args, { env, cwd: ROOT, logFile: join(logDir, `${variant.id}.log`) });
        children.push(child);
        try {
          await firstAnswer(child, `http://127.0.0.1:${port}/graphql`, variant.headers);
          const s = (performance.now() - started) / 1000;
          seconds.get(variant.id)!.push(s);
          console.log(`round ${round}/${runs}  ${variant.id.padEnd(16)} ${s.toFixed(2)} s`);
        } finally {
          await child.stop();
          children.splice(children.indexOf(child), 1);
        }
      }
    }
    const summary = variants.map((v) => {
      const each = seconds.get(v.id)!.map((s) => Math.round(s * 1000) / 1000);
      return { id: v.id, label: v.label, secondsEach: each, medianSeconds: median(each), minSeconds: Math.min(...each), maxSeconds: Math.max(...each) };
    });
    const med = (id: string) => summary.find((v) => v.id === id)!.medianSeconds;
    const ratio = (a: string, b: string) => Math.round((med(a) / med(b)) * 100) / 100;
    const results: ColdStartResults = {
      schema: 'data-mesh-cold-start/1',
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.versions.node, loadAverageAtStart },
      runs,
      query: QUERY,
      variants: summary,
      ratios: [
        { name: 'ours compiled / Apollo compiled', value: ratio('ours-compiled', 'apollo-compiled') },
        { name: 'ours tsx / Apollo tsx', value: ratio('ours-tsx', 'apollo-tsx') },
        { name: 'ours compiled / Apollo tsx', value: ratio('ours-compiled', 'apollo-tsx') },
        { name: 'ours tsx / ours compiled', value: ratio('ours-tsx', 'ours-compiled') },
      ],
    };
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log('\ncold start, process start → first answered query (median of %d):', runs);
    for (const v of summary) console.log(`  ${v.label.padEnd(34)} ${v.medianSeconds.toFixed(2)} s  (min ${v.minSeconds.toFixed(2)}, max ${v.maxSeconds.toFixed(2)})`);
    for (const r of results.ratios) console.log(`  ${r.name.padEnd(34)} ${r.value}x`);
    console.log(`\nwrote ${relative(process.cwd(), out)}`);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await mesh.stop();
  }
}

/** Polls until the gateway answers the lookup correctly; a refused connection is retried at once (25 ms). */
async function firstAnswer(child: Child, url: string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${child.name} exited during start:\n${child.tail()}`);
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: QUERY, signal: AbortSignal.timeout(60_000) })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as { data?: { customer?: { id?: string } }; errors?: unknown[] } }))
      .catch(() => null);
    if (answer?.status === 200 && !answer.body.errors && answer.body.data?.customer?.id === '42') return;
    // Up but wrong: a real failure, not a slow start.
    if (answer && answer.status !== 503) throw new Error(`${child.name} answered HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${child.name} did not answer within 180 s:\n${child.tail()}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 1000) / 1000;
}
