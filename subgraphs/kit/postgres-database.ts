import pg from 'pg';
import type { RequestBudget } from './request-budget.js';
import { toPostgres, toPostgresDdl, type PostgresStatement } from './sql-dialect.js';
import { rowValues, SqlDatabase, type Inserter, type ReadOnlySql } from './sql-database.js';

/** A domain's PostgreSQL database, from `<DOMAIN>_DATABASE_URL` (see settings.ts). */
export interface PostgresSettings {
  url: string;
  /** Connections in the subgraph's pool (`<DOMAIN>_DATABASE_POOL_SIZE`, else MESH_DATABASE_POOL_SIZE, else 10). */
  poolSize: number;
}

/** A startup failure (server unreachable, schema wrong) naming the domain, the variable and the server, never the password. */
export class DatabaseSetupError extends Error {}

/** host:port/database of a connection URL: what logs and errors may show (no user, no password). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    return `${host}:${u.port || 5432}${u.pathname || '/'}`;
  } catch {
    return '(an unparseable URL)';
  }
}

// PostgreSQL's 64-bit integers (COUNT, SUM of integers) and NUMERIC (our REAL columns, exact sums)
// come back as strings by default; the mesh's figures are well within a double, as in SQLite.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, Number);
types.setTypeParser(pg.types.builtins.NUMERIC, Number);

/** The statement_timeout a request's statement left on a pooled connection (absent: none). */
const timeoutOf = new WeakMap<pg.PoolClient, number>();

/** SQLSTATE of a statement cancelled (by statement_timeout or a cancel request). */
const QUERY_CANCELED = '57014';
/** Rows per INSERT when seeding. */
const INSERT_BATCH_ROWS = 5_000;

/**
 * The server engine: a connection pool per subgraph (node-postgres), statements translated from
 * the SQL both engines share (sql-dialect.ts), sessions in UTC.
 *
 * Under a request's budget, each statement takes a connection from the pool for itself, gets the
 * request's remaining time as its `statement_timeout`, and is cancelled on the server (a cancel
 * request for that backend) as soon as the request stops: deadline passed, caller gone, cap
 * reached. A connection whose statement was cancelled is closed rather than reused, so a late
 * cancel can never hit another request's statement.
 */
export class PostgresDatabase extends SqlDatabase {
  readonly engine = 'postgresql' as const;
  readonly location: string;
  /** Set on a transaction's view: its statements all run on this connection. */
  private readonly client: pg.PoolClient | null = null;
  private readonly translated = new Map<string, PostgresStatement>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.PoolConfig,
    location: string,
  ) {
    super();
    this.location = location;
  }

  /**
   * Connects (and checks that the server answers) or fails with a DatabaseSetupError naming the
   * domain, the variable it came from and the server.
   */
  static async connect(settings: PostgresSettings, who: { domain: string; variable: string }): Promise<PostgresDatabase> {
    const location = describeUrl(settings.url);
    const config: pg.PoolConfig = {
      connectionString: settings.url,
      max: settings.poolSize,
      types,
      application_name: `data-mesh ${who.domain}`,
      options: '-c TimeZone=UTC',
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    };
    const pool = new pg.Pool(config);
    // An idle connection the server dropped: the pool replaces it; nothing to crash over.
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      await pool.end().catch(() => {});
      throw new DatabaseSetupError(`${who.domain}: cannot use the PostgreSQL database at ${location} (${who.variable}): ${reason(error)}`);
    }
    return new PostgresDatabase(pool, config, location);
  }

  private statement(sql: string, params: unknown[]): { text: string; values: unknown[] } {
    let statement = this.translated.get(sql);
    if (!statement) {
      statement = toPostgres(sql);
      this.translated.set(sql, statement);
    }
    return bound(statement, params);
  }

  protected async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.execute(this.statement(sql, params))).rows as T[];
  }

  protected async change(sql: string, params: unknown[]): Promise<number> {
    return (await this.execute(this.statement(sql, params))).rowCount ?? 0;
  }

  private async execute(query: { text: string; values: unknown[] }): Promise<pg.QueryResult> {
    if (this.client) return this.client.query(query);
    const budget = this.budget;
    if (!budget) return this.withClient((client) => client.query(query));
    return this.underBudget(budget, query);
  }

  /**
   * A pooled connection for work outside any request (seeding, migrations): without the statement
   * timeout a request's statement may have left on it.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      if (timeoutOf.get(client)) {
        await client.query('SET statement_timeout = 0');
        timeoutOf.set(client, 0);
      }
      return await fn(client);
    } finally {
      client.release();
    }
  }

  private async underBudget(budget: RequestBudget, query: { text: string; values: unknown[] }): Promise<pg.QueryResult> {
    const client = await this.acquire(budget);
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      cancelOnServer(client);
    };
    try {
      budget.check();
      const remaining = budget.remainingMs();
      const timeout = Number.isFinite(remaining) ? Math.max(1, Math.ceil(remaining)) : 0;
      // One more round trip per statement: the deadline moves, so the timeout is set every time (unless there is none, again).
      if (timeout !== 0 || timeoutOf.get(client)) {
        await client.query(`SET statement_timeout = ${timeout}`);
        timeoutOf.set(client, timeout);
      }
      budget.signal.addEventListener('abort', cancel, { once: true });
      try {
        return await client.query(query);
      } finally {
        budget.signal.removeEventListener('abort', cancel);
      }
    } catch (error) {
      // The request's own error (timeout, cancelled, cap), not the server's account of the cancel.
      if (budget.stopped) budget.check();
      if ((error as { code?: string }).code === QUERY_CANCELED) throw budget.stop('timeout');
      throw error;
    } finally {
      client.release(cancelled ? true : undefined);
    }
  }

  /** A connection from the pool, unless the request stops while it waits for one. */
  private acquire(budget: RequestBudget): Promise<pg.PoolClient> {
    budget.check();
    const connecting = this.pool.connect();
    return new Promise((resolve, reject) => {
      const stop = () => {
        // The connection, when it comes, goes straight back.
        connecting.then((client) => client.release(), () => {});
        try {
          budget.check();
        } catch (error) {
          reject(error);
        }
      };
      budget.signal.addEventListener('abort', stop, { once: true });
      connecting.then(
        (client) => {
          budget.signal.removeEventListener('abort', stop);
          resolve(client);
        },
        (error: unknown) => {
          budget.signal.removeEventListener('abort', stop);
          reject(error);
        },
      );
    });
  }

  async exec(sql: string): Promise<void> {
    this.budget?.beforeStatement();
    const ddl = toPostgresDdl(sql);
    if (this.client) await this.client.query(ddl);
    else await this.withClient((client) => client.query(ddl));
  }

  async transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await fn(Object.create(this, { client: { value: client } }) as PostgresDatabase);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  /**
   * Bulk INSERTs of up to 5,000 rows, each column bound as one array (`INSERT … SELECT * FROM
   * unnest($1::int[], $2::text[], …)`): seeding 200,000 rows takes a few dozen statements, and the
   * server parses each once, whatever its number of rows.
   */
  inserter(table: string, columns: readonly string[], options: { upsertKey?: string } = {}): Inserter {
    const upsert = options.upsertKey
      ? ` ON CONFLICT (${options.upsertKey}) DO UPDATE SET ${columns.filter((c) => c !== options.upsertKey).map((c) => `${c} = excluded.${c}`).join(', ')}`
      : '';
    let buffer: unknown[][] = [];
    let text: string | null = null;
    const flush = async () => {
      if (buffer.length === 0) return;
      const rows = buffer;
      buffer = [];
      const values = columns.map((_, c) => rows.map((row) => row[c]));
      const load = async (connection: pg.PoolClient) => {
        text ??= await bulkInsert(connection, table, columns, upsert);
        await connection.query(text, values);
      };
      this.counters.statements++;
      await (this.client ? load(this.client) : this.withClient(load));
    };
    return {
      add: async (row) => {
        buffer.push(rowValues(row, columns));
        if (buffer.length >= INSERT_BATCH_ROWS) await flush();
      },
      done: flush,
    };
  }

  /**
   * Its own connection, whose transactions are read-only (a statement that writes fails), one
   * statement per query (the extended protocol refuses several), bounded by a statement timeout.
   */
  async readOnly(): Promise<ReadOnlySql> {
    const pool = new pg.Pool({ ...this.config, max: 1, options: '-c TimeZone=UTC -c default_transaction_read_only=on -c statement_timeout=60000' });
    pool.on('error', () => {});
    return {
      engine: 'postgresql',
      async value(sql, params) {
        const { text, values } = bound(toPostgres(sql), params);
        const result = await pool.query({ text, values, rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig);
        return (result.rows[0] as unknown[] | undefined)?.[0];
      },
      close: () => pool.end(),
    };
  }

  async close(): Promise<void> {
    this.translated.clear();
    await this.pool.end();
  }
}

/** The INSERT of a bulk load: the table's column types (from the catalog) tell unnest what each array holds. */
async function bulkInsert(connection: pg.PoolClient, table: string, columns: readonly string[], upsert: string): Promise<string> {
  const { rows } = await connection.query<{ column_name: string; type: string }>(
    `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [table],
  );
  const typeOf = new Map(rows.map((r) => [r.column_name, r.type]));
  const arrays = columns.map((c, i) => {
    const type = typeOf.get(c);
    if (!type) throw new Error(`${table}.${c}: no such column`);
    return `$${i + 1}::${type}[]`;
  });
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})${upsert}`;
}

/** The statement's text and values, key lists (JSON arrays from `inList`) bound as arrays. */
function bound(statement: PostgresStatement, params: unknown[]): { text: string; values: unknown[] } {
  if (statement.keyLists.length === 0) return { text: statement.text, values: params };
  const values = [...params];
  for (const i of statement.keyLists) if (typeof values[i] === 'string') values[i] = JSON.parse(values[i] as string);
  return { text: statement.text, values };
}

/**
 * Asks the server to cancel what `client` is running: the protocol's cancel request (the
 * backend's process id and secret key), on a connection of its own, so it needs no free slot in
 * the pool. The client is closed afterwards, never reused: a late cancel cannot hit another statement.
 */
function cancelOnServer(client: pg.PoolClient): void {
  const { processID, secretKey, host, port } = client as unknown as { processID: number; secretKey: number; host: string; port: number };
  const connection = new pg.Connection() as unknown as {
    on(event: string, listener: () => void): void;
    connect(portOrPath: number | string, host?: string): void;
    cancel(processID: number, secretKey: number): void;
  };
  connection.on('error', () => {});
  connection.on('connect', () => connection.cancel(processID, secretKey));
  if (host.startsWith('/')) connection.connect(`${host}/.s.PGSQL.${port}`);
  else connection.connect(port, host);
}

/** Why the server could not be used, in words (the driver's message, the error code otherwise). */
function reason(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  const message = e.message || e.errors?.map((x) => x.message).join('; ') || e.code || String(error);
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}
