import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The one door a domain's data access goes through.
 *
 * Why a wrapper rather than raw better-sqlite3: it caches prepared statements (parsed once per
 * process), counts the statements executed (the batching tests and the benchmark read that
 * count), and keeps the surface small enough that a PostgreSQL engine can implement it later.
 */
export class SqlDatabase {
  readonly raw: Database.Database;
  /** Statements executed since open; read by tests and `/metrics`. */
  statementsExecuted = 0;
  private readonly statements = new Map<string, { stmt: Database.Statement; numbered: boolean }>();

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.raw = new Database(path);
    // WAL lets the quality checks and other readers run beside the subgraph's own reads.
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    this.raw.pragma('foreign_keys = ON');
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
    this.statementsExecuted++;
    const [stmt, args] = this.bind(sql, params);
    return stmt.all(...args) as T[];
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    this.statementsExecuted++;
    const [stmt, args] = this.bind(sql, params);
    return stmt.get(...args) as T | undefined;
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    this.statementsExecuted++;
    const [stmt, args] = this.bind(sql, params);
    return stmt.run(...args);
  }

  /** Runs DDL or several statements at once (migrations). */
  exec(sql: string): void {
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
