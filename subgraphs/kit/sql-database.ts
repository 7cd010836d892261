import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { errorType } from '../mesh/request-spans.js';
import type { RequestBudget } from './request-budget.js';

const tracer = trace.getTracer('data-mesh/kit');

/**
 * The one door a domain's data access goes through.
 *
 * Why a wrapper rather than raw better-sqlite3: it caches prepared statements (parsed once per
 * process), counts the statements executed (the batching tests and the benchmark read that
 * count), and keeps the surface small enough that a PostgreSQL engine can implement it later.
 *
 * A request's resolvers get a view of it (`forRequest`) that answers to the request's budget:
 * before each statement it checks that the request is still wanted and within its deadline, after
 * each it counts the rows returned. better-sqlite3 runs a statement to completion, so these checks
 * sit between statements.
 */
export class SqlDatabase {
  readonly raw: Database.Database;
  /** The request this view works for; null on the database itself (seeding, migrations, quality). */
  readonly budget: RequestBudget | null = null;
  private readonly counters = { statements: 0 };
  private readonly statements = new Map<string, { stmt: Database.Statement; numbered: boolean; span?: StatementSpan }>();

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.raw = new Database(path);
    // WAL lets the quality checks and other readers run beside the subgraph's own reads.
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    this.raw.pragma('foreign_keys = ON');
  }

  /** Statements executed since open, by the database and all its request views; read by tests and `/metrics`. */
  get statementsExecuted(): number {
    return this.counters.statements;
  }
  set statementsExecuted(n: number) {
    this.counters.statements = n;
  }

  /** A view for one request: the same connection, statement cache and counters, under the request's budget. */
  forRequest(budget: RequestBudget): SqlDatabase {
    return Object.create(this, { budget: { value: budget } }) as SqlDatabase;
  }

  /**
   * Numbered parameters (`?1`, `?2`, reusable within a statement) are bound by better-sqlite3 as
   * an object keyed by number; callers still pass them positionally.
   */
  private bind(sql: string, params: unknown[]): [Database.Statement, unknown[]] {
    let entry = this.statements.get(sql);
    if (!entry) {
      entry = { stmt: this.raw.prepare(sql), numbered: /\?\d/.test(sql) };
      this.statements.set(sql, entry);
    }
    if (!entry.numbered) return [entry.stmt, params];
    const named: Record<number, unknown> = {};
    params.forEach((value, i) => (named[i + 1] = value));
    return [entry.stmt, [named]];
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const [stmt, args] = this.bind(sql, params);
    const span = this.statementSpan(sql);
    try {
      const rows = stmt.all(...args) as T[];
      span?.setAttribute('db.response.returned_rows', rows.length);
      this.budget?.afterStatement(rows.length);
      return rows;
    } catch (error) {
      throw failed(span, error);
    } finally {
      span?.end();
    }
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const [stmt, args] = this.bind(sql, params);
    const span = this.statementSpan(sql);
    try {
      const row = stmt.get(...args) as T | undefined;
      span?.setAttribute('db.response.returned_rows', row === undefined ? 0 : 1);
      this.budget?.afterStatement(row === undefined ? 0 : 1);
      return row;
    } catch (error) {
      throw failed(span, error);
    } finally {
      span?.end();
    }
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const [stmt, args] = this.bind(sql, params);
    const span = this.statementSpan(sql);
    try {
      return stmt.run(...args);
    } catch (error) {
      throw failed(span, error);
    } finally {
      span?.end();
    }
  }

  /**
   * A statement's CLIENT span (`SELECT orders`, db.system.name sqlite, db.query.text: the SQL with
   * its `?` placeholders, never the values), only below a recording span: a request's resolvers
   * are traced; seeding, migrations and quality runs are not.
   */
  private statementSpan(sql: string): Span | undefined {
    if (!trace.getActiveSpan()?.isRecording()) return undefined;
    const entry = this.statements.get(sql)!;
    const { name, attributes } = (entry.span ??= describeStatement(sql));
    return tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
  }

  /** Runs DDL or several statements at once (migrations). */
  exec(sql: string): void {
    this.budget?.beforeStatement();
    this.raw.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn)();
  }

  close(): void {
    this.statements.clear();
    this.raw.close();
  }
}

/**
 * Binds a list of keys as ONE parameter (a JSON array), so a batch of any size uses the same
 * cached statement: `WHERE id IN (SELECT value FROM json_each(?))`.
 */
export const inList = (keys: readonly (string | number)[]): string => JSON.stringify(keys);

interface StatementSpan {
  name: string;
  attributes: Attributes;
}

/** A statement's span name and attributes (OpenTelemetry's database conventions), made once per statement. */
function describeStatement(sql: string): StatementSpan {
  const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
  const table = /\b(?:FROM|INTO|UPDATE)\s+["`[]?(\w+)/i.exec(sql)?.[1];
  const attributes: Attributes = { 'db.system.name': 'sqlite', 'db.operation.name': operation, 'db.query.text': sql };
  if (table) attributes['db.collection.name'] = table;
  return { name: table ? `${operation} ${table}` : operation, attributes };
}

/** Marks the statement's span failed; returns the error to rethrow. */
function failed(span: Span | undefined, error: unknown): unknown {
  span?.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(error));
  return error;
}
