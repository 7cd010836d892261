import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { rowValues, SqlDatabase, type Inserter, type ReadOnlySql } from './sql-database.js';

const YIELD_EVERY_ROWS = 5_000;

/**
 * The embedded engine (the default): one better-sqlite3 connection per subgraph, prepared
 * statements cached per SQL text (parsed once per process). better-sqlite3 runs a statement to
 * completion synchronously, so the request budget's checks sit between statements.
 */
export class SqliteDatabase extends SqlDatabase {
  readonly engine = 'sqlite' as const;
  readonly raw: Database.Database;
  private readonly statements = new Map<string, { stmt: Database.Statement; numbered: boolean }>();

  constructor(readonly location: string) {
    super();
    if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
    this.raw = new Database(location);
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

  protected async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    const [stmt, args] = this.bind(sql, params);
    return stmt.all(...args) as T[];
  }

  protected async change(sql: string, params: unknown[]): Promise<number> {
    const [stmt, args] = this.bind(sql, params);
    return stmt.run(...args).changes;
  }

  async exec(sql: string): Promise<void> {
    this.budget?.beforeStatement();
    this.raw.exec(sql);
  }

  /** One connection: nothing else runs on it while seeding or migrating, so BEGIN … COMMIT is the transaction. */
  async transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T> {
    this.raw.exec('BEGIN');
    try {
      const result = await fn(this);
      this.raw.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
      throw error;
    }
  }

  inserter(table: string, columns: readonly string[], options: { upsertKey?: string } = {}): Inserter {
    const upsert = options.upsertKey
      ? ` ON CONFLICT (${options.upsertKey}) DO UPDATE SET ${columns.filter((c) => c !== options.upsertKey).map((c) => `${c} = excluded.${c}`).join(', ')}`
      : '';
    const stmt = this.raw.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${upsert}`);
    let rows = 0;
    return {
      add: async (row) => {
        stmt.run(...rowValues(row, columns));
        // A long load lets the event loop turn now and then (other databases seeding beside it, timers).
        if (++rows % YIELD_EVERY_ROWS === 0) await new Promise((resolve) => setImmediate(resolve));
      },
      done: async () => {},
    };
  }

  /** Its own read-only connection (WAL lets it read beside the subgraph's traffic); in memory, this one. */
  async readOnly(): Promise<ReadOnlySql> {
    const own = this.location !== ':memory:';
    const db = own ? new Database(this.location, { readonly: true, fileMustExist: true }) : this.raw;
    return sqliteReadOnly(db, own);
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.raw.close();
  }
}

/** Quality rules on a better-sqlite3 connection: only statements that read and change nothing. */
export function sqliteReadOnly(db: Database.Database, closeWithIt = false): ReadOnlySql {
  return {
    engine: 'sqlite',
    async value(sql, params) {
      const statement = db.prepare(sql);
      if (!statement.reader || !statement.readonly) throw new Error('the statement must be a read-only SELECT returning one value');
      return statement.pluck().get(...params);
    },
    async close() {
      if (closeWithIt) db.close();
    },
  };
}
