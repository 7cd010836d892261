/** The shape of bench/results.json, and the console table and SVG chart drawn from it. */

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
  /** 1, 5, 15-minute load averages when the run began: anything else running skews the figures. */
  loadAverageAtStart: number[];
}

export interface GatewayInfo {
  id: string;
  label: string;
  description: string;
  version: string;
  /** Set for our gateway: whether it rejected a bad token (governance active) when measured. */
  governance?: 'active' | 'inactive';
  startSeconds: number;
  idleRssMiB: number;
  /** The kernel's high-water mark for the whole life of the process (start-up included). */
  lifetimePeakRssMiB: number;
}

export interface QueryInfo {
  id: string;
  title: string;
  short: string;
  description: string;
  variables: Record<string, unknown>;
  loaded: boolean;
}

/** One request, sent alone: correctness and exact per-operation subgraph work. */
export interface CheckResult {
  gateway: string;
  query: string;
  status: number;
  ok: boolean;
  problem?: string;
  responseBytes: number;
  /** Data identical to the first gateway's answer for this query. */
  sameDataAsReference: boolean;
  sqlStatementsPerOperation: number;
  subgraphRequestsPerOperation: number;
  perSubgraph: Record<string, { sqlStatements: number; requests: number }>;
}

export interface LoadResult {
  gateway: string;
  query: string;
  /**
   * `same`: every connection sends the same token (one user hammering one query: what in-flight
   * deduplication shares). `distinct`: each connection is a different user (its own token), so
   * no two requests in flight may share an execution: the cost of actually executing. `unique`:
   * one user, but every request body is unique (an `extensions` entry no gateway reads differs per
   * request): sharing keyed by raw bytes shares nothing, sharing keyed by the operation does.
   */
  callers: Callers;
  /** Measurements taken (a measurement disturbed by other processes is taken again). */
  attempts: number;
  durationSeconds: number;
  connections: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  /** Responses that carried a GraphQL `errors` member. */
  graphqlErrors: number;
  /** Responses that differ byte-for-byte from the checked one but carry no errors (informational). */
  bodiesDiffering: number;
  /** Gateway process tree CPU over the load window, % of one core. */
  gatewayCpuPercent: number;
  /** All five subgraph processes together, % of one core. */
  subgraphsCpuPercent: number;
  /** The harness itself (autocannon), which shares the machine's cores. */
  loadGeneratorCpuPercent: number;
  /** Everything else on the machine during the window (other users' work disturbs the figures). */
  otherCpuPercent: number;
  requestsPerGatewayCpuSecond: number;
  peakRssMiB: number;
  /** Approximate under load: statement deltas divided by requests sent (Hive's deduplication lowers it). */
  sqlStatementsPerOperation: number;
  subgraphRequestsPerOperation: number;
}

/** The load scenarios: see LoadResult.callers. */
export type Callers = 'same' | 'distinct' | 'unique';

export interface Ratio {
  query: string;
  callers: Callers;
  /** ours req/s ÷ the other gateway's req/s; null when one of them was not run. */
  oursOverApollo: number | null;
  oursOverHive: number | null;
  oursOverHiveDedup: number | null;
  /** ours peak RSS ÷ Apollo Gateway's, same query and scenario (< 1: ours uses less memory); null when not run. */
  rssOursOverApollo?: number | null;
}

export interface BenchResults {
  schema: 'data-mesh-bench/1';
  date: string;
  mode: 'full' | 'quick';
  valid: boolean;
  problems: string[];
  /** Not invalidating, but worth knowing (e.g. the machine was busy with other work). */
  warnings: string[];
  machine: MachineInfo;
  settings: { connections: number; durationSeconds: number; warmupSeconds: number; scale: number; callers: Callers[]; commit: string; /** Gateways and subgraphs ran compiled (as deployed), not through tsx. */ compiled?: boolean };
  auth: { scopes: string[]; claims: Record<string, string> };
  gateways: GatewayInfo[];
  queries: QueryInfo[];
  checks: CheckResult[];
  load: LoadResult[];
  ratios: Ratio[];
  /** Wide list with 10 and with 100 customers: SQL statements per operation (single requests). */
  sqlScaling: { gateway: string; rows: { customers: number; sqlStatementsPerOperation: number; subgraphRequestsPerOperation: number }[]; flat: boolean }[];
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatReport(r: BenchResults): string {
  const label = (id: string) => r.gateways.find((g) => g.id === id)?.label ?? id;
  const out: string[] = [];
  out.push(
    `${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node} — ` +
      `${r.settings.connections} connections, ${r.settings.durationSeconds} s per query after ${r.settings.warmupSeconds} s warm-up, ` +
      `load average at start ${r.machine.loadAverageAtStart.join(' ')}`,
    '',
  );
  const loadRows = r.load.map((l) => {
    const check = r.checks.find((c) => c.gateway === l.gateway && c.query === l.query);
    const errors = l.non2xx + l.socketErrors + l.timeouts + l.graphqlErrors;
    return [
      label(l.gateway),
      l.query,
      l.callers,
      fmt(l.requestsPerSecond, 1),
      fmt(l.latencyMs.p50, 1),
      fmt(l.latencyMs.p99, 1),
      fmt(l.gatewayCpuPercent),
      fmt(l.subgraphsCpuPercent),
      fmt(l.otherCpuPercent),
      fmt(l.peakRssMiB),
      fmt(check?.sqlStatementsPerOperation, 1),
      fmt(check?.subgraphRequestsPerOperation, 1),
      fmt(l.sqlStatementsPerOperation, 2),
      String(errors),
    ];
  });
  out.push(
    table(
      ['gateway', 'query', 'callers', 'req/s', 'p50 ms', 'p99 ms', 'gw CPU%', 'subgr CPU%', 'other CPU%', 'peak RSS MiB', 'SQL/op', 'fetches/op', 'SQL/op load', 'errors'],
      loadRows,
      [false, false, false, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );
  if (r.ratios.length) {
    out.push('', 'req/s ratios (ours ÷ other; > 1 means ours is faster)');
    out.push(
      table(
        ['query', 'callers', 'ours/apollo', 'ours/hive', 'ours/hive-dedup', 'RSS ours/apollo'],
        r.ratios.map((x) => [x.query, x.callers, fmt(x.oursOverApollo, 2), fmt(x.oursOverHive, 2), fmt(x.oursOverHiveDedup, 2), fmt(x.rssOursOverApollo, 2)]),
        [false, false, true, true, true, true],
      ),
    );
  }
  if (r.sqlScaling.length) {
    out.push('', 'SQL statements per operation, wide list, single requests');
    out.push(
      table(
        ['gateway', ...r.sqlScaling[0]!.rows.map((x) => `${x.customers} customers`), 'flat'],
        r.sqlScaling.map((s) => [label(s.gateway), ...s.rows.map((x) => fmt(x.sqlStatementsPerOperation)), s.flat ? 'yes' : 'NO']),
        [false, ...r.sqlScaling[0]!.rows.map(() => true), false],
      ),
    );
  }
  if (r.warnings.length) out.push('', `warnings:\n  ${r.warnings.join('\n  ')}`);
  out.push('', r.valid ? 'run valid: every response checked, no errors' : `RUN INVALID:\n  ${r.problems.join('\n  ')}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Chart: grouped bars of req/s, one group per query, one bar per gateway.

const SCENARIOS: Record<string, string> = {
  same: 'one caller, identical bodies',
  unique: 'one caller, a unique body per request',
  distinct: 'a caller per connection: every request executes',
};
const scenario = (callers: string) => SCENARIOS[callers] ?? callers;

const COLORS = ['#10b981', '#8b5cf6', '#ec4899'];
const GATEWAY_COLORS: Record<string, string> = { ours: '#2563eb', apollo: '#9ca3af', hive: '#fbbf24', 'hive-dedup': '#c2410c' };
const colorOf = (id: string, index: number) => GATEWAY_COLORS[id] ?? COLORS[index % COLORS.length]!;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(r: BenchResults): string {
  const gateways = r.gateways.filter((g) => r.load.some((l) => l.gateway === g.id));
  const groups = r.settings.callers.flatMap((callers) =>
    r.queries
      .filter((q) => r.load.some((l) => l.query === q.id && l.callers === callers))
      .map((q) => ({ query: q, callers, label: q.short ?? q.title })),
  );
  const value = (g: string, q: string, c: string) => r.load.find((l) => l.gateway === g && l.query === q && l.callers === c)?.requestsPerSecond ?? 0;
  const values = r.load.map((l) => l.requestsPerSecond).filter((v) => v > 0);
  const max = Math.max(1, ...values);
  const min = Math.max(1, Math.min(...values, max));
  // A log scale when one bar would otherwise flatten the others (e.g. request deduplication).
  const log = max / min > 12;

  const groupW = Math.max(150, gateways.length * 34 + 30);
  const m = { top: 64, right: 20, bottom: 86, left: 70 };
  const width = Math.max(720, m.left + m.right + groupW * groups.length);
  // Legend entries (with each gateway's memory), laid out in as many rows as the width needs.
  const peakOf = (id: string) => Math.max(0, ...r.load.filter((l) => l.gateway === id).map((l) => l.peakRssMiB));
  const apolloPeak = peakOf('apollo');
  const legend = gateways.map((g) => {
    const peak = peakOf(g.id);
    return `${g.label}: peak RSS ${fmt(peak)} MiB${apolloPeak > 0 && g.id !== 'apollo' ? ` (${fmt(peak / apolloPeak, 2)}× Apollo)` : ''}`;
  });
  const legendWidth = (text: string) => 36 + text.length * 7;
  const legendRows: number[][] = [[]];
  let rowWidth = 0;
  legend.forEach((text, i) => {
    if (rowWidth > 0 && m.left + rowWidth + legendWidth(text) > width - m.right) {
      legendRows.push([]);
      rowWidth = 0;
    }
    legendRows[legendRows.length - 1]!.push(i);
    rowWidth += legendWidth(text);
  });
  const height = 440 + (legendRows.length - 1) * 20;
  const plotW = width - m.left - m.right;
  const plotH = 440 - m.top - m.bottom;
  const top = log ? Math.pow(10, Math.ceil(Math.log10(max))) : niceCeil(max);
  const bottom = log ? Math.pow(10, Math.floor(Math.log10(min))) : 0;
  const y = (v: number) =>
    log
      ? m.top + plotH - ((Math.log10(Math.max(v, bottom)) - Math.log10(bottom)) / (Math.log10(top) - Math.log10(bottom))) * plotH
      : m.top + plotH - (v / top) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${m.left}" y="24" font-size="16" font-weight="600" fill="#111827">Requests per second by query and gateway${log ? ' (log scale)' : ''}</text>`,
    `<text x="${m.left}" y="44" fill="#4b5563">${esc(`${r.machine.cores} cores (${r.machine.cpuModel}), Node ${r.machine.node}, ${r.settings.connections} connections, ${r.settings.durationSeconds} s per query, ${r.date.slice(0, 10)}${r.mode === 'quick' ? ' — QUICK MODE' : ''}${r.valid ? '' : ' — INVALID RUN (see problems in the results)'}`)}</text>`,
  );
  const ticks = log ? logTicks(bottom, top) : Array.from({ length: 6 }, (_, i) => (top / 5) * i);
  for (const t of ticks) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${m.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#6b7280">${fmt(t)}</text>`);
  }
  parts.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#4b5563">requests / s</text>`);

  const slot = plotW / Math.max(1, groups.length);
  const barW = Math.min(40, (slot * 0.85) / Math.max(1, gateways.length));
  groups.forEach((grp, gi0) => {
    const x0 = m.left + gi0 * slot + (slot - barW * gateways.length) / 2;
    gateways.forEach((g, gi) => {
      const v = value(g.id, grp.query.id, grp.callers);
      if (!v) return;
      const x = x0 + gi * barW;
      const yTop = y(v);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${yTop.toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(m.top + plotH - yTop).toFixed(1)}" fill="${colorOf(g.id, gi)}"><title>${esc(`${g.label} — ${grp.query.title}, ${scenario(grp.callers)}: ${fmt(v, 1)} req/s`)}</title></rect>`,
        `<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(yTop - 4).toFixed(1)}" text-anchor="middle" font-size="9" fill="#374151">${fmt(v)}</text>`,
      );
    });
    const cx = (m.left + gi0 * slot + slot / 2).toFixed(1);
    parts.push(`<text x="${cx}" y="${m.top + plotH + 18}" text-anchor="middle" fill="#111827">${esc(grp.label)}</text>`);
  });
  // One caption per caller scenario, under its groups.
  for (const callers of r.settings.callers) {
    const idx = groups.map((g, i) => (g.callers === callers ? i : -1)).filter((i) => i >= 0);
    if (!idx.length) continue;
    const cx = m.left + ((idx[0]! + idx[idx.length - 1]! + 1) / 2) * slot;
    parts.push(`<text x="${cx.toFixed(1)}" y="${m.top + plotH + 38}" text-anchor="middle" font-size="12" font-weight="600" fill="#4b5563">${esc(scenario(callers))}</text>`);
  }
  // Separators between caller scenarios.
  groups.forEach((grp, gi0) => {
    if (gi0 > 0 && groups[gi0 - 1]!.callers !== grp.callers) {
      const x = (m.left + gi0 * slot).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + plotH + 36}" stroke="#9ca3af" stroke-dasharray="4 3"/>`);
    }
  });
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#9ca3af"/>`);
  legendRows.forEach((row, ri) => {
    let lx = m.left;
    const ly = height - 20 - (legendRows.length - 1 - ri) * 20;
    for (const gi of row) {
      const g = gateways[gi]!;
      parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colorOf(g.id, gi)}"/>`);
      parts.push(`<text x="${lx + 16}" y="${ly}" fill="#111827">${esc(legend[gi]!)}</text>`);
      lx += legendWidth(legend[gi]!);
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function logTicks(bottom: number, top: number): number[] {
  const ticks: number[] = [];
  for (let v = bottom; v <= top * 1.0001; v *= 10) {
    ticks.push(v);
    if (v * 3 < top) ticks.push(v * 3);
  }
  return ticks.sort((a, b) => a - b);
}
