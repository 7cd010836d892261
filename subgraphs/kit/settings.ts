import { resolve } from 'node:path';
import { parseNumber } from '../mesh/numbers.js';
import { DEFAULT_SEED } from './deterministic-random.js';
import type { Domain } from './domain.js';

/**
 * Where a subgraph listens and keeps its data. Flags win over the environment, which wins over
 * defaults that just work (ports 4001–4005, ./data/<domain>.db, scale 1).
 */
export interface SubgraphSettings {
  port: number;
  host: string;
  dbPath: string;
  scale: number;
  seed: number;
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
    scale: scale === undefined ? 1 : parseNumber(scale, 'MESH_SCALE / --scale', { min: 0.001 }),
    seed: seed === undefined ? DEFAULT_SEED : parseNumber(seed, 'MESH_SEED / --seed', { integer: true }),
  };
}
