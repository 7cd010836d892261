import { resolve } from 'node:path';
import { parseNumber, SettingsError } from '../mesh/numbers.js';
import { DEFAULT_SEED } from './deterministic-random.js';
import type { Domain } from './domain.js';
import type { PostgresSettings } from './postgres-database.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-budget.js';

/**
 * Where a subgraph listens and keeps its data. Flags win over the environment, which wins over
 * defaults that just work (ports 4001–4005, ./data/<domain>.db, scale 1).
 */
export interface SubgraphSettings {
  port: number;
  host: string;
  /** The SQLite file, unused when `database` (PostgreSQL) is set. */
  dbPath: string;
  /** `<DOMAIN>_DATABASE_URL`: the domain's data lives in this PostgreSQL database instead of SQLite. */
  database: PostgresSettings | null;
  scale: number;
  seed: number;
  /** Per-request deadline and caps (see request-budget.ts). */
  limits: RequestLimits;
}

export interface SettingsInput {
  port?: string;
  host?: string;
  db?: string;
  dataDir?: string;
  scale?: string;
  seed?: string;
}

export function subgraphSettings(domain: Domain, input: SettingsInput = {}, env = process.env): SubgraphSettings {
  const prefix = domain.name.toUpperCase();
  const dataDir = input.dataDir ?? env.DATA_DIR ?? 'data';
  const port = input.port ?? env[`${prefix}_PORT`];
  const scale = input.scale ?? env.MESH_SCALE;
  const seed = input.seed ?? env.MESH_SEED;
  return {
    port: port === undefined ? domain.defaultPort : parseNumber(port, `${prefix}_PORT / --port`, { integer: true }),
    host: input.host ?? env.HOST ?? '127.0.0.1',
    dbPath: resolve(input.db ?? env[`${prefix}_DB`] ?? `${dataDir}/${domain.name}.db`),
    database: databaseSettings(prefix, env),
    scale: scale === undefined ? 1 : parseNumber(scale, 'MESH_SCALE / --scale', { min: 0.001 }),
    seed: seed === undefined ? DEFAULT_SEED : parseNumber(seed, 'MESH_SEED / --seed', { integer: true }),
    limits: requestLimits(prefix, env),
  };
}

/**
 * `<DOMAIN>_REQUEST_TIMEOUT_MS`, `<DOMAIN>_MAX_ROWS`, `<DOMAIN>_MAX_RESPONSE_BYTES` for one domain,
 * else `MESH_…` of the same name for all of them, else the defaults. 0 turns a limit off.
 */
function requestLimits(prefix: string, env: NodeJS.ProcessEnv): RequestLimits {
  const read = (suffix: string, fallback: number) => {
    const name = env[`${prefix}_${suffix}`] !== undefined ? `${prefix}_${suffix}` : `MESH_${suffix}`;
    const value = env[name];
    return value === undefined ? fallback : parseNumber(value, name, { integer: true });
  };
  return {
    timeoutMs: read('REQUEST_TIMEOUT_MS', DEFAULT_REQUEST_LIMITS.timeoutMs),
    maxRows: read('MAX_ROWS', DEFAULT_REQUEST_LIMITS.maxRows),
    maxResponseBytes: read('MAX_RESPONSE_BYTES', DEFAULT_REQUEST_LIMITS.maxResponseBytes),
  };
}

/** The variable that points a domain at PostgreSQL. */
export const databaseUrlVariable = (domain: string) => `${domain.toUpperCase()}_DATABASE_URL`;

/**
 * `<DOMAIN>_DATABASE_URL` (postgres:// or postgresql://), with its pool size from
 * `<DOMAIN>_DATABASE_POOL_SIZE`, else MESH_DATABASE_POOL_SIZE, else 10; null when unset (SQLite).
 */
function databaseSettings(prefix: string, env: NodeJS.ProcessEnv): PostgresSettings | null {
  const name = `${prefix}_DATABASE_URL`;
  const url = env[name];
  if (url === undefined || url === '') return null;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new SettingsError(`${name}: not a URL (expected postgres://user@host:port/database)`);
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new SettingsError(`${name}: a postgres:// URL is expected, got ${protocol}//…`);
  const sizeName = env[`${prefix}_DATABASE_POOL_SIZE`] !== undefined ? `${prefix}_DATABASE_POOL_SIZE` : 'MESH_DATABASE_POOL_SIZE';
  const size = env[sizeName];
  return { url, poolSize: size === undefined || size === '' ? DEFAULT_POOL_SIZE : parseNumber(size, sizeName, { integer: true, min: 1 }) };
}

export const DEFAULT_POOL_SIZE = 10;
