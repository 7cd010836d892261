import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { BenchResults } from '../bench/results.js';

/**
 * Keeps `npm run bench` from rotting: its quick mode (our gateway and plain Apollo Gateway) must
 * check every query's answer on both and find them all correct and the same, then run every load
 * scenario (one caller, one caller with a unique body per request, distinct callers) and check
 * every answer under load, and write well-formed results. To keep the suite short only the deep
 * query (four subgraph fetches) is loaded, in short windows; the full run is `npm run bench`.
 * Validity only: throughput and timings are never asserted (quick mode keeps a slow gateway's
 * window open until its answers are checked); this machine's numbers belong in bench/results.json.
 */
describe('benchmark harness (quick mode)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'data-mesh-bench-'));
  const out = join(workDir, 'results.json');
  let bench: ChildProcess | undefined;
  afterAll(() => {
    // Had the test given up, the harness stops its gateways and subgraphs on SIGTERM.
    if (bench && bench.exitCode === null && bench.signalCode === null) bench.kill('SIGTERM');
    rmSync(workDir, { recursive: true, force: true });
  });

  it('runs ours and Apollo Gateway over the real subgraphs and writes valid results and a chart', async () => {
    const args = ['--import', 'tsx', 'bench/run.ts', '--quick', '--gateways', 'ours,apollo', '--load', 'deep', '--duration', '0.3', '--warmup', '0', '--work-dir', workDir, '--data-dir', inject('dataDir'), '--out', out];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = (bench = spawn(process.execPath, args, { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, LOG_LEVEL: 'warn' } }));
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('exit', (code) => resolve({ code, output }));
    });
    expect(code, output).toBe(0);

    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.schema).toBe('data-mesh-bench/1');
    expect(results.mode).toBe('quick');
    expect(results.problems).toEqual([]);
    expect(results.valid).toBe(true);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.versions.node);
    expect(results.gateways.map((g) => g.id)).toEqual(['ours', 'apollo']);

    // Every query is checked; the deep one is loaded.
    expect(results.queries.map((q) => q.id)).toEqual(expect.arrayContaining(['lookup', 'deep', 'wide', 'wide10']));
    const loaded = results.queries.filter((q) => q.loaded).map((q) => q.id);
    expect(loaded).toEqual(['deep']);
    for (const gateway of ['ours', 'apollo']) {
      for (const query of results.queries.map((q) => q.id)) {
        const check = results.checks.find((c) => c.gateway === gateway && c.query === query);
        expect(check, `${gateway}/${query} checked`).toMatchObject({ ok: true, status: 200, sameDataAsReference: true });
        expect(check!.subgraphRequestsPerOperation).toBeGreaterThan(0);
      }
      for (const [query, callers] of loaded.flatMap((q) => [[q, 'same'], [q, 'unique'], [q, 'distinct']])) {
        const load = results.load.find((l) => l.gateway === gateway && l.query === query && l.callers === callers);
        expect(load, `${gateway}/${query}/${callers} loaded`).toBeDefined();
        // Answers were checked (verifyBody) for every connection's worth of load, however slow they came.
        expect(load!.requests).toBeGreaterThanOrEqual(results.settings.connections);
        expect(load).toMatchObject({ non2xx: 0, socketErrors: 0, timeouts: 0, graphqlErrors: 0 });
        for (const n of [load!.requestsPerSecond, load!.latencyMs.p50, load!.latencyMs.p99, load!.gatewayCpuPercent, load!.peakRssMiB]) {
          expect(Number.isFinite(n)).toBe(true);
        }
      }
    }
    expect(results.ratios.map((r) => r.query)).toEqual([...loaded, ...loaded, ...loaded]);
    expect(results.ratios.map((r) => r.callers)).toEqual([...loaded.map(() => 'same'), ...loaded.map(() => 'unique'), ...loaded.map(() => 'distinct')]);
    expect(results.ratios.every((r) => typeof r.oursOverApollo === 'number' && typeof r.rssOursOverApollo === 'number' && r.oursOverHive === null)).toBe(true);
    // SQL per operation must not grow with the list: 10 and 100 customers cost the same statements.
    expect(results.sqlScaling.length).toBe(2);
    expect(results.sqlScaling.every((s) => s.flat)).toBe(true);

    const svg = readFileSync(join(workDir, 'results.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Apollo Gateway');
    // A process per subgraph, two gateways, six load windows: generous for a loaded 2-core machine.
  }, 900_000);
});
