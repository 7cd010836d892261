import type Database from 'better-sqlite3';
import { DATA_END } from '../deterministic-random.js';
import type { Engine, ReadOnlySql } from '../sql-database.js';
import { sqliteReadOnly } from '../sqlite-database.js';
import { qualityRules, slaOf } from '../../mesh/data-products/accessors.js';
import { TIME_UNITS, type Comparator, type DataProduct, type QualityRule, type TimeUnit } from '../../mesh/data-products/descriptor.js';
import type { FreshnessResult, QualityReport, QualityResult } from '../../mesh/data-products/quality-report.js';

/**
 * Runs a product's quality rules as SQL against its domain's database: one statement per rule,
 * each returning one number that the rule's comparator judges. Library metrics (ODCS v3.1:
 * nullValues, duplicateValues, invalidValues, rowCount, plus our `freshness`) are compiled here;
 * `type: sql` rules bring their own SELECT, in SQL both engines accept (SQLite, PostgreSQL).
 * Statements run on a read-only connection and must be read-only themselves, so a rule can
 * measure data but never change it. The report it produces is
 * the mesh's (subgraphs/mesh/data-products/quality-report.ts): the gateway's catalog reads it.
 */

export class AsOfError extends Error {}

/**
 * The clock freshness is measured against. The seeded data is a synthetic three-year history that
 * ends on 2025-12-31, so by default the mesh measures it as of the next day (its own "today");
 * `MESH_AS_OF=now` uses the wall clock (what a real deployment does), an ISO instant pins a time.
 */
export const SYNTHETIC_AS_OF = new Date(DATA_END + 86_400_000);

export function asOfFrom(value: string | undefined): Date {
  if (value === undefined || value === '' || value === 'synthetic') return SYNTHETIC_AS_OF;
  if (value === 'now') return new Date();
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new AsOfError(`MESH_AS_OF / --as-of: "${value}" is not an ISO-8601 instant, "now" or "synthetic"`);
  return date;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

export interface CompiledRule {
  sql: string;
  params: unknown[];
}

/** The one SQL statement that measures a rule (freshness measures seconds; the runner converts). */
export function compileRule(rule: QualityRule, columnOf: (property: string) => string = (p) => p, engine: Engine = 'sqlite'): CompiledRule {
  if (rule.type === 'sql') {
    let sql = rule.query!;
    if (rule.table) sql = sql.replaceAll('${object}', quote(rule.table));
    if (rule.column) sql = sql.replaceAll('${property}', quote(rule.column));
    return { sql, params: [] };
  }
  const table = quote(rule.table!);
  const column = rule.column ? quote(rule.column) : null;
  const percent = rule.unit === 'percent';
  switch (rule.metric) {
    case 'rowCount':
      return { sql: `SELECT COUNT(*) FROM ${table}`, params: [] };
    case 'nullValues':
      return {
        sql: percent
          ? `SELECT COALESCE(100.0 * (COUNT(*) - COUNT(${column})) / NULLIF(COUNT(*), 0), 0) FROM ${table}`
          : `SELECT COUNT(*) - COUNT(${column}) FROM ${table}`,
        params: [],
      };
    case 'duplicateValues': {
      if (column) {
        return {
          sql: percent
            ? `SELECT COALESCE(100.0 * (COUNT(${column}) - COUNT(DISTINCT ${column})) / NULLIF(COUNT(${column}), 0), 0) FROM ${table}`
            : `SELECT COUNT(${column}) - COUNT(DISTINCT ${column}) FROM ${table}`,
          params: [],
        };
      }
      const columns = rule.arguments.properties!.map((p) => quote(columnOf(p))).join(', ');
      const duplicates = `(SELECT COUNT(*) FROM ${table}) - (SELECT COUNT(*) FROM (SELECT DISTINCT ${columns} FROM ${table}) AS d)`;
      return {
        sql: percent ? `SELECT COALESCE(100.0 * (${duplicates}) / NULLIF((SELECT COUNT(*) FROM ${table}), 0), 0)` : `SELECT ${duplicates}`,
        params: [],
      };
    }
    case 'invalidValues': {
      const conditions: string[] = [];
      const params: unknown[] = [];
      const { validValues, minimum, maximum } = rule.arguments;
      if (validValues) {
        conditions.push(`${column} NOT IN (SELECT value FROM json_each(?))`);
        params.push(JSON.stringify(validValues.filter((v) => v !== null)));
      }
      if (minimum !== undefined) {
        conditions.push(`${column} < ?`);
        params.push(minimum);
      }
      if (maximum !== undefined) {
        conditions.push(`${column} > ?`);
        params.push(maximum);
      }
      // NULLs are not invalid values: nullValues counts them.
      const invalid = `${column} IS NOT NULL AND (${conditions.join(' OR ')})`;
      return {
        sql: percent
          ? `SELECT COALESCE(100.0 * SUM(CASE WHEN ${invalid} THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0), 0) FROM ${table}`
          : `SELECT COUNT(*) FROM ${table} WHERE ${invalid}`,
        params,
      };
    }
    case 'freshness':
      // Age in seconds of the newest value, against the run's clock (a bound parameter).
      if (engine === 'postgresql') return { sql: `SELECT EXTRACT(EPOCH FROM (CAST(? AS timestamptz) - CAST(MAX(${column}) AS timestamptz))) FROM ${table}`, params: [] };
      return { sql: `SELECT (julianday(?) - julianday(MAX(${column}))) * 86400.0 FROM ${table}`, params: [] };
    default:
      throw new Error(`unknown metric ${rule.metric}`);
  }
}

const SYMBOL: Record<Comparator['name'], string> = {
  mustBe: '=',
  mustNotBe: '!=',
  mustBeGreaterThan: '>',
  mustBeGreaterOrEqualTo: '>=',
  mustBeLessThan: '<',
  mustBeLessOrEqualTo: '<=',
  mustBeBetween: 'between',
  mustNotBeBetween: 'not between',
};

export function describeExpectation(c: Comparator, unit: string): string {
  const value = Array.isArray(c.value) ? `${c.value[0]} and ${c.value[1]}` : String(c.value);
  return `${SYMBOL[c.name]} ${value} ${unit}`;
}

const EPSILON = 1e-9;
export function compare(value: number, c: Comparator): boolean {
  const v = c.value;
  switch (c.name) {
    case 'mustBe':
      return Math.abs(value - (v as number)) < EPSILON;
    case 'mustNotBe':
      return Math.abs(value - (v as number)) >= EPSILON;
    case 'mustBeGreaterThan':
      return value > (v as number);
    case 'mustBeGreaterOrEqualTo':
      return value >= (v as number);
    case 'mustBeLessThan':
      return value < (v as number);
    case 'mustBeLessOrEqualTo':
      return value <= (v as number);
    case 'mustBeBetween':
      return value >= (v as [number, number])[0] && value <= (v as [number, number])[1];
    case 'mustNotBeBetween':
      return value < (v as [number, number])[0] || value > (v as [number, number])[1];
  }
}

export interface QualityOptions {
  asOf?: Date;
  /** Only these products (by id). */
  products?: string[];
}

/**
 * Runs every rule of the given products (retired ones excepted) plus each freshness SLA, on a
 * read-only connection of either engine (or a better-sqlite3 connection). One statement at a time,
 * yielding to the event loop between rules: inside a subgraph, a periodic run then delays requests
 * by one statement at most, not by the whole run.
 */
export async function runQuality(source: ReadOnlySql | Database.Database, products: DataProduct[], options: QualityOptions = {}): Promise<QualityReport> {
  const db = 'prepare' in source ? sqliteReadOnly(source) : source;
  const asOf = options.asOf ?? SYNTHETIC_AS_OF;
  const asOfIso = asOf.toISOString();
  const results: QualityResult[] = [];
  const freshness: FreshnessResult[] = [];

  for (const product of products) {
    if (product.status === 'retired' || (options.products && !options.products.includes(product.id))) continue;
    const columnsByProperty = new Map<string, string>();
    for (const port of product.outputPorts) for (const o of port.schema) for (const p of o.properties) columnsByProperty.set(p.name, p.physicalName ?? p.name);
    for (const rule of qualityRules(product)) {
      results.push(await runRule(db, product.id, rule, asOfIso, (p) => columnsByProperty.get(p) ?? p));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sla = slaOf(product, 'freshness');
    if (sla?.element && typeof sla.value === 'number') {
      const [table, column] = sla.element.split('.') as [string, string];
      const unit = (sla.unit ?? 'd') as TimeUnit;
      const rule: QualityRule = {
        id: 'sla-freshness',
        description: `Newest ${sla.element} is at most ${sla.value} ${unit} old (the product's freshness SLA)`,
        type: 'library',
        metric: 'freshness',
        query: null,
        arguments: {},
        comparator: { name: 'mustBeLessOrEqualTo', value: sla.value },
        unit,
        severity: 'warning',
        dimension: 'timeliness',
        object: table,
        property: column,
        table,
        column,
        path: sla.path,
      };
      const result = await runRule(db, product.id, rule, asOfIso, (p) => p);
      result.coordinate = sla.element;
      results.push(result);
      let lastUpdated: string | null = null;
      try {
        lastUpdated = ((await db.value(`SELECT MAX(${quote(column)}) FROM ${quote(table)}`, [])) as string | null | undefined) ?? null;
      } catch {
        lastUpdated = null;
      }
      const targetSeconds = sla.value * TIME_UNITS[unit];
      const parsed = lastUpdated === null ? NaN : Date.parse(lastUpdated);
      const ageSeconds = Number.isFinite(parsed) ? Math.round((asOf.getTime() - parsed) / 1000) : result.value === null ? null : Math.round(result.value * TIME_UNITS[unit]);
      freshness.push({ product: product.id, element: sla.element, lastUpdated, ageSeconds, targetSeconds, withinSla: ageSeconds === null ? null : ageSeconds <= targetSeconds });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  // The time spent in SQL (the run itself may be spread over several turns of the event loop).
  const durationMs = round(results.reduce((sum, r) => sum + r.durationMs, 0));
  return { asOf: asOfIso, checkedAt: new Date().toISOString(), durationMs, results, freshness };
}

async function runRule(db: ReadOnlySql, product: string, rule: QualityRule, asOfIso: string, columnOf: (p: string) => string): Promise<QualityResult> {
  const started = performance.now();
  const base = {
    product,
    rule: rule.id,
    description: rule.description,
    metric: rule.type === 'sql' ? 'sql' : rule.metric!,
    coordinate: rule.property ? `${rule.object}.${rule.property}` : rule.object,
    target: rule.type === 'sql' ? (rule.table ?? rule.object) : rule.column ? `${rule.table}.${rule.column}` : rule.table!,
    severity: rule.severity,
    dimension: rule.dimension,
    unit: rule.unit,
    expectation: describeExpectation(rule.comparator, rule.unit),
  };
  try {
    const { sql, params } = compileRule(rule, columnOf, db.engine);
    const raw = await db.value(sql, rule.metric === 'freshness' ? [asOfIso, ...params] : params);
    if (raw === null || raw === undefined) {
      return { ...base, status: 'failed', value: null, message: rule.metric === 'freshness' ? 'no rows: nothing to measure' : 'the query returned no value', durationMs: round(performance.now() - started) };
    }
    let value = typeof raw === 'bigint' ? Number(raw) : Number(raw);
    if (!Number.isFinite(value)) throw new Error(`the query returned ${JSON.stringify(raw)}, not a number`);
    if (rule.metric === 'freshness') value = value / TIME_UNITS[rule.unit as TimeUnit];
    value = Math.round(value * 10_000) / 10_000;
    const ok = compare(value, rule.comparator);
    return {
      ...base,
      status: ok ? 'passed' : 'failed',
      value,
      message: ok ? null : `measured ${value} ${rule.unit}, expected ${base.expectation}`,
      durationMs: round(performance.now() - started),
    };
  } catch (error) {
    return { ...base, status: 'error', value: null, message: (error as Error).message, durationMs: round(performance.now() - started) };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
