import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { errorType } from '../mesh/request-spans.js';
import type { RequestBudget } from './request-budget.js';

const tracer = trace.getTracer('data-mesh/kit');

/** The engines a domain's data can live in: SQLite (embedded, the default) or a PostgreSQL server. */
export type Engine = 'sqlite' | 'postgresql';

/**
 * The one door a domain's data access goes through, whatever the engine (sqlite-database.ts,
 * postgres-database.ts).
 *
 * Why a wrapper rather than the drivers: it counts the statements executed (the batching tests,
 * the benchmark and `/metrics` read that count), traces them, and lets one repository serve both
 * engines. Repositories write SQL once, in what both engines accept (see sql-dialect.ts for the
 * two SQLite idioms the PostgreSQL engine translates: `?`/`?N` placeholders and key lists bound as
 * one parameter, `IN (SELECT value FROM json_each(?N))`).
 *
 * A request's resolvers get a view of it (`forRequest`) that answers to the request's budget:
 * before each statement it checks that the request is still wanted and within its deadline, after
 * each it counts the rows returned. The PostgreSQL engine also gives each statement the request's
 * remaining time as its `statement_timeout`, and cancels it on the server when the request stops.
 */
export abstract class SqlDatabase {
  abstract readonly engine: Engine;
  /** Where the data lives, for logs and errors: a file, or host:port/database (never a password). */
  abstract readonly location: string;
  /** The request this view works for; null on the database itself (seeding, migrations, quality). */
  readonly budget: RequestBudget | null = null;
  protected readonly counters = { statements: 0 };
  private readonly spans = new Map<string, StatementSpan>();

  /** Statements executed since open, by the database and all its request views; read by tests and `/metrics`. */
  get statementsExecuted(): number {
    return this.counters.statements;
  }
  set statementsExecuted(n: number) {
    this.counters.statements = n;
  }

  /** A view for one request: the same connections, caches and counters, under the request's budget. */
  forRequest(budget: RequestBudget): this {
    return Object.create(this, { budget: { value: budget } }) as this;
  }

  /** Rows of a query. Parameters are positional (`?`) or numbered (`?1`, reusable within a statement). */
  async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const span = this.statementSpan(sql);
    try {
      const rows = await this.query<T>(sql, params);
      span?.setAttribute('db.response.returned_rows', rows.length);
      this.budget?.afterStatement(rows.length);
      return rows;
    } catch (error) {
      throw failed(span, error);
    } finally {
      span?.end();
    }
  }

  /** The first row of a query, or undefined. */
  async get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return (await this.all<T>(sql, ...params))[0];
  }

  /** A statement that changes data; resolves to the number of rows it changed. */
  async run(sql: string, ...params: unknown[]): Promise<number> {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const span = this.statementSpan(sql);
    try {
      return await this.change(sql, params);
    } catch (error) {
      throw failed(span, error);
    } finally {
      span?.end();
    }
  }

  /** Runs DDL, several statements at once (migrations): written for SQLite, translated for PostgreSQL. */
  abstract exec(sql: string): Promise<void>;

  /** Runs `fn` in one transaction, on a view of this database bound to it; rolls back if it throws. */
  abstract transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T>;

  /** Bulk loading (seeding): rows go in as few statements as the engine allows. Call `done()` at the end. */
  abstract inserter(table: string, columns: readonly string[], options?: { upsertKey?: string }): Inserter;

  /** A read-only connection for quality rules: a statement that would change data fails. */
  abstract readOnly(): Promise<ReadOnlySql>;

  abstract close(): Promise<void>;

  protected abstract query<T>(sql: string, params: unknown[]): Promise<T[]>;
  protected abstract change(sql: string, params: unknown[]): Promise<number>;

  /**
   * A statement's CLIENT span (`SELECT orders`, db.system.name sqlite or postgresql, db.query.text:
   * the SQL with its placeholders, never the values), only below a recording span: a request's
   * resolvers are traced; seeding, migrations and quality runs are not.
   */
  private statementSpan(sql: string): Span | undefined {
    if (!trace.getActiveSpan()?.isRecording()) return undefined;
    let described = this.spans.get(sql);
    if (!described) {
      described = describeStatement(this.engine, sql);
      this.spans.set(sql, described);
    }
    return tracer.startSpan(described.name, { kind: SpanKind.CLIENT, attributes: described.attributes });
  }
}

/** Rows added one at a time, written in batches; `add` resolves once the row is buffered or written. */
export interface Inserter {
  add(row: readonly unknown[] | Record<string, unknown>): Promise<void>;
  /** Writes what is buffered. */
  done(): Promise<void>;
}

/** What quality rules run on: one value per statement, read-only. */
export interface ReadOnlySql {
  readonly engine: Engine;
  /** The first column of the first row (undefined when there is none). */
  value(sql: string, params: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Binds a list of keys as ONE parameter, so a batch of any size uses the same statement:
 * `WHERE id IN (SELECT value FROM json_each(?))` (PostgreSQL: `WHERE id = ANY($1)`).
 */
export const inList = (keys: readonly (string | number)[]): string => JSON.stringify(keys);

/** A row given as an array, or as an object with a property per column. */
export function rowValues(row: readonly unknown[] | Record<string, unknown>, columns: readonly string[]): unknown[] {
  return Array.isArray(row) ? (row as unknown[]) : columns.map((c) => (row as Record<string, unknown>)[c] ?? null);
}

interface StatementSpan {
  name: string;
  attributes: Attributes;
}

/** A statement's span name and attributes (OpenTelemetry's database conventions), made once per statement. */
function describeStatement(engine: Engine, sql: string): StatementSpan {
  const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
  const table = /\b(?:FROM|INTO|UPDATE)\s+["`[]?(\w+)/i.exec(sql)?.[1];
  const attributes: Attributes = { 'db.system.name': engine, 'db.operation.name': operation, 'db.query.text': sql };
  if (table) attributes['db.collection.name'] = table;
  return { name: table ? `${operation} ${table}` : operation, attributes };
}

/** Marks the statement's span failed; returns the error to rethrow. */
function failed(span: Span | undefined, error: unknown): unknown {
  span?.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(error));
  return error;
}
