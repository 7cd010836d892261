import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RequestBudget } from './request-budget.js';

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
  private readonly statements = new Map<string, { stmt: Database.Statement; numbered: boolean }>();

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
    const rows = stmt.all(...args) as T[];
    this.budget?.afterStatement(rows.length);
    return rows;
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const [stmt, args] = this.bind(sql, params);
    const row = stmt.get(...args) as T | undefined;
    this.budget?.afterStatement(row === undefined ? 0 : 1);
    return row;
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    this.budget?.beforeStatement();
    this.counters.statements++;
    const [stmt, args] = this.bind(sql, params);
    return stmt.run(...args);
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
