import type { Severity } from './descriptor.js';

/**
 * What a quality run reports, as a subgraph serves it at `/data-products` and the gateway's catalog
 * reads it. The runner that produces it (SQL against a domain's database) is the kit's.
 */

export type RuleStatus = 'passed' | 'failed' | 'error';

export interface QualityResult {
  product: string;
  rule: string;
  description: string | null;
  /** Library metric, `sql`, or `freshness` for the SLA's own check. */
  metric: string;
  /** `Type.field` or `Type` the rule sits on. */
  coordinate: string;
  /** `table.column` or `table` (for a sql rule: its object's table, or the object). */
  target: string;
  severity: Severity;
  dimension: string | null;
  status: RuleStatus;
  /** What was measured, in `unit`; null when the rule could not run or found nothing to measure. */
  value: number | null;
  unit: string;
  /** The comparator in words, e.g. `= 0 rows`, `<= 2 d`. */
  expectation: string;
  /** Why it failed or could not run. */
  message: string | null;
  durationMs: number;
}

/** How old the product's newest record is, against its SLA's freshness target. */
export interface FreshnessResult {
  product: string;
  element: string;
  /** The newest value of the element column (as stored). */
  lastUpdated: string | null;
  ageSeconds: number | null;
  targetSeconds: number;
  withinSla: boolean | null;
}

export interface QualityReport {
  /** The instant "now" for freshness checks. */
  asOf: string;
  checkedAt: string;
  /** Time spent running the rules' SQL. */
  durationMs: number;
  results: QualityResult[];
  freshness: FreshnessResult[];
}

/** Overall verdict of a set of results: a critical rule that failed (or could not run) fails it. */
export function verdict(results: QualityResult[]): 'passed' | 'warning' | 'failed' {
  if (results.some((r) => r.status !== 'passed' && r.severity === 'critical')) return 'failed';
  if (results.some((r) => r.status !== 'passed' && r.severity === 'warning')) return 'warning';
  return 'passed';
}
