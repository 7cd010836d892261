import { existsSync, rmSync } from 'node:fs';
import type { Domain, SeedOptions } from './domain.js';
import type { Logger } from '../mesh/logger.js';
import { SqlDatabase } from './sql-database.js';

interface MeshMeta {
  domain: string;
  schema_version: number;
  scale: number;
  seed: number;
}

/**
 * Opens a domain's database, creating and seeding it on first start.
 *
 * A database seeded with other settings (another scale or seed, an older table layout) is rebuilt
 * rather than silently served: the numbers a user sees must match what they asked for.
 */
export function openDomainDatabase(domain: Domain, path: string, options: SeedOptions, log: Logger): SqlDatabase {
  let db = new SqlDatabase(path);
  const meta = readMeta(db);
  const wanted = { domain: domain.name, schema_version: domain.schemaVersion, scale: options.scale, seed: options.seed };
  if (meta && sameMeta(meta, wanted)) return db;

  if (meta) {
    log.warn('database was seeded with other settings; rebuilding it', { path, found: meta, wanted });
    db.close();
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
    db = new SqlDatabase(path);
  }
  const started = performance.now();
  db.transaction(() => {
    domain.migrate(db);
    domain.seed(db, options);
    db.exec('CREATE TABLE IF NOT EXISTS _mesh_meta (domain TEXT, schema_version INTEGER, scale REAL, seed INTEGER)');
    db.run('DELETE FROM _mesh_meta');
    db.run('INSERT INTO _mesh_meta VALUES (?, ?, ?, ?)', wanted.domain, wanted.schema_version, wanted.scale, wanted.seed);
  });
  db.exec('ANALYZE');
  db.statementsExecuted = 0;
  log.info('database created and seeded', { path, scale: options.scale, ms: Math.round(performance.now() - started) });
  return db;
}

function readMeta(db: SqlDatabase): MeshMeta | undefined {
  const table = db.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_mesh_meta'").get();
  if (!table) return undefined;
  return db.raw.prepare('SELECT * FROM _mesh_meta').get() as MeshMeta | undefined;
}

const sameMeta = (a: MeshMeta, b: MeshMeta) =>
  a.domain === b.domain && a.schema_version === b.schema_version && a.scale === b.scale && a.seed === b.seed;
