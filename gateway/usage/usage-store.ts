import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Which schema coordinates the gateway's operations used, counted per UTC day, in a small SQLite
 * file (`MESH_USAGE_DB`, default `<DATA_DIR>/usage.db`): what `npm run check` reads to tell a
 * breaking change nobody uses from one that breaks a client. Coordinates are `Type.field` for
 * fields and `Type.field(arg:)` for arguments a request passed; `operations` counts executions.
 * Bounded: one row per (day, coordinate), days older than the retention are deleted.
 */
export const DEFAULT_RETENTION_DAYS = 400;

/** The store's file from the environment: `MESH_USAGE_DB` (a path, or `off`), else `<DATA_DIR>/usage.db`; null when off. */
export function usageStorePath(env: NodeJS.ProcessEnv = process.env): string | null {
  const setting = env.MESH_USAGE_DB;
  if (setting === 'off' || setting === '') return null;
  return resolve(setting ?? join(env.DATA_DIR ?? 'data', 'usage.db'));
}

/** YYYY-MM-DD (UTC) of an instant. */
export const dayOf = (at: Date | number): string => new Date(at).toISOString().slice(0, 10);

export interface CoordinateUsage {
  count: number;
  /** Last day it was used (YYYY-MM-DD). */
  lastSeen: string;
}

export interface UsageSince {
  /** First day of the window asked for. */
  since: string;
  /** Operations recorded in the window (0: no evidence either way). */
  operations: number;
  /** First day with recorded operations in the window, or null. */
  firstDay: string | null;
  coordinates: Map<string, CoordinateUsage>;
}

export class UsageStore {
  private readonly db: Database.Database;
  private readonly addCoordinate: Database.Statement;
  private readonly addOperations: Database.Statement;

  private constructor(db: Database.Database) {
    this.db = db;
    this.addCoordinate = db.prepare(
      'INSERT INTO coordinate_usage (day, coordinate, count) VALUES (?, ?, ?) ON CONFLICT (day, coordinate) DO UPDATE SET count = count + excluded.count',
    );
    this.addOperations = db.prepare('INSERT INTO operation_usage (day, count) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET count = count + excluded.count');
  }

  /** Opens (creating it when needed) the store for writing. */
  static open(path: string): UsageStore {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Several gateways may share one file: wait for a writer rather than fail.
    db.pragma('busy_timeout = 2000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS coordinate_usage (day TEXT NOT NULL, coordinate TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (day, coordinate)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS operation_usage (day TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
    `);
    return new UsageStore(db);
  }

  /** Opens an existing store read-only (for checks); null when there is none yet. */
  static read(path: string): UsageReader | null {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch {
      return null;
    }
    return new UsageReader(db);
  }

  /** Adds one batch (one transaction): counts per coordinate and the number of operations, per day. */
  add(batch: ReadonlyMap<string, { operations: number; coordinates: ReadonlyMap<string, number> }>): void {
    this.db.transaction(() => {
      for (const [day, { operations, coordinates }] of batch) {
        if (operations) this.addOperations.run(day, operations);
        for (const [coordinate, count] of coordinates) this.addCoordinate.run(day, coordinate, count);
      }
    })();
  }

  /** Deletes the days before `day`. */
  prune(day: string): void {
    this.db.prepare('DELETE FROM coordinate_usage WHERE day < ?').run(day);
    this.db.prepare('DELETE FROM operation_usage WHERE day < ?').run(day);
  }

  close(): void {
    this.db.close();
  }
}

export class UsageReader {
  constructor(private readonly db: Database.Database) {}

  /** Usage from `since` (YYYY-MM-DD) on. */
  since(since: string): UsageSince {
    let operations = 0;
    let firstDay: string | null = null;
    const coordinates = new Map<string, CoordinateUsage>();
    try {
      const ops = this.db.prepare('SELECT COALESCE(SUM(count), 0) AS operations, MIN(day) AS firstDay FROM operation_usage WHERE day >= ?').get(since) as { operations: number; firstDay: string | null };
      operations = ops.operations;
      firstDay = ops.firstDay;
      const rows = this.db.prepare('SELECT coordinate, SUM(count) AS count, MAX(day) AS lastSeen FROM coordinate_usage WHERE day >= ? GROUP BY coordinate').all(since) as ({ coordinate: string } & CoordinateUsage)[];
      for (const { coordinate, count, lastSeen } of rows) coordinates.set(coordinate, { count, lastSeen });
    } catch {
      // A file that is not a usage store (or an empty one) is no evidence.
    }
    return { since, operations, firstDay, coordinates };
  }

  close(): void {
    this.db.close();
  }
}
