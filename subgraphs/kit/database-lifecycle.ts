import { existsSync, rmSync } from 'node:fs';
import type { Domain, SeedOptions } from './domain.js';
import type { Logger } from '../mesh/logger.js';
import { DatabaseSetupError, PostgresDatabase, type PostgresSettings } from './postgres-database.js';
import { databaseUrlVariable } from './settings.js';
import type { SqlDatabase } from './sql-database.js';
import { SqliteDatabase } from './sqlite-database.js';

interface MeshMeta {
  domain: string;
  schema_version: number;
  scale: number;
  seed: number;
}

const META_TABLE = 'CREATE TABLE IF NOT EXISTS _mesh_meta (domain TEXT, schema_version INTEGER, scale REAL, seed INTEGER)';

/**
 * Opens a domain's database, creating and seeding it on first start: a SQLite file (a path), or
 * the PostgreSQL database of `<DOMAIN>_DATABASE_URL` (settings).
 *
 * A SQLite file seeded with other settings (another scale or seed, an older table layout) is
 * rebuilt rather than silently served: the numbers a user sees must match what they asked for. A
 * PostgreSQL database is a server's, not ours to drop: one made with other settings, or holding
 * tables the mesh did not make, is refused with an error that says what to do.
 */
export async function openDomainDatabase(domain: Domain, target: string | PostgresSettings, options: SeedOptions, log: Logger): Promise<SqlDatabase> {
  const wanted = { domain: domain.name, schema_version: domain.schemaVersion, scale: options.scale, seed: options.seed };
  return typeof target === 'string' ? openSqlite(domain, target, wanted, log) : openPostgres(domain, target, wanted, log);
}

async function openSqlite(domain: Domain, path: string, wanted: MeshMeta, log: Logger): Promise<SqlDatabase> {
  let db = new SqliteDatabase(path);
  const meta = sqliteMeta(db);
  if (meta && sameMeta(meta, wanted)) return db;
  if (meta) {
    log.warn('database was seeded with other settings; rebuilding it', { path, found: meta, wanted });
    await db.close();
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
    db = new SqliteDatabase(path);
  }
  await createAndSeed(domain, db, wanted, log);
  return db;
}

function sqliteMeta(db: SqliteDatabase): MeshMeta | undefined {
  const table = db.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_mesh_meta'").get();
  if (!table) return undefined;
  return db.raw.prepare('SELECT * FROM _mesh_meta').get() as MeshMeta | undefined;
}

async function openPostgres(domain: Domain, settings: PostgresSettings, wanted: MeshMeta, log: Logger): Promise<SqlDatabase> {
  const variable = databaseUrlVariable(domain.name);
  const db = await PostgresDatabase.connect(settings, { domain: domain.name, variable });
  try {
    const meta = await postgresMeta(db);
    if (meta && sameMeta(meta, wanted)) {
      // The subgraph's count starts at its first request (/metrics, the batching tests).
      db.statementsExecuted = 0;
      return db;
    }
    if (meta) throw wrongSchema(domain, db, variable, `was seeded with ${describe(meta)}; this mesh needs ${describe(wanted)}`);
    // First start: one process seeds, others starting at the same time wait for it (and then find it seeded).
    const seeded = await db.transaction(async (tx) => {
      await tx.get("SELECT pg_advisory_xact_lock(hashtext('data-mesh:seed')) AS locked");
      const now = await postgresMeta(tx);
      if (now) return now;
      const tables = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()');
      if (tables!.n > 0) throw wrongSchema(domain, db, variable, `holds ${tables!.n} tables that the mesh did not make (no _mesh_meta)`);
      await seedInto(domain, tx, wanted, log);
      return null;
    });
    if (seeded && !sameMeta(seeded, wanted)) throw wrongSchema(domain, db, variable, `was seeded with ${describe(seeded)}; this mesh needs ${describe(wanted)}`);
    if (!seeded) await db.exec('ANALYZE');
    db.statementsExecuted = 0;
    return db;
  } catch (error) {
    await db.close().catch(() => {});
    if (error instanceof DatabaseSetupError) throw error;
    throw new DatabaseSetupError(`${domain.name}: could not set up the PostgreSQL database at ${db.location} (${variable}): ${(error as Error).message}`);
  }
}

async function postgresMeta(db: SqlDatabase): Promise<MeshMeta | undefined> {
  const table = await db.get<{ t: string | null }>("SELECT to_regclass('_mesh_meta')::text AS t");
  if (!table?.t) return undefined;
  return db.get<MeshMeta>('SELECT * FROM _mesh_meta');
}

function wrongSchema(domain: Domain, db: SqlDatabase, variable: string, problem: string): DatabaseSetupError {
  return new DatabaseSetupError(
    `${domain.name}: the PostgreSQL database at ${db.location} (${variable}) ${problem}. Point ${variable} at an empty database (the subgraph creates and seeds it on first start), or empty this one`,
  );
}

const describe = (m: MeshMeta) => `schema version ${m.schema_version}, scale ${m.scale}, seed ${m.seed}`;

async function createAndSeed(domain: Domain, db: SqlDatabase, wanted: MeshMeta, log: Logger): Promise<void> {
  await db.transaction((tx) => seedInto(domain, tx, wanted, log));
  await db.exec('ANALYZE');
  db.statementsExecuted = 0;
}

async function seedInto(domain: Domain, tx: SqlDatabase, wanted: MeshMeta, log: Logger): Promise<void> {
  const started = performance.now();
  await domain.migrate(tx);
  await domain.seed(tx, { scale: wanted.scale, seed: wanted.seed });
  await tx.exec(META_TABLE);
  await tx.run('DELETE FROM _mesh_meta');
  await tx.run('INSERT INTO _mesh_meta VALUES (?, ?, ?, ?)', wanted.domain, wanted.schema_version, wanted.scale, wanted.seed);
  log.info('database created and seeded', { engine: tx.engine, location: tx.location, scale: wanted.scale, ms: Math.round(performance.now() - started) });
}

const sameMeta = (a: MeshMeta, b: MeshMeta) =>
  a.domain === b.domain && a.schema_version === b.schema_version && a.scale === b.scale && a.seed === b.seed;
