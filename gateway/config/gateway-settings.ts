import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';
import { CONTRACT_NAME, type ContractSettings } from '../contracts/contract-settings.js';

/**
 * The gateway's operational settings: request limits, demand control, trusted documents, CORS,
 * introspection, subgraph timeouts. Section and key names are Apollo Router's (router.yaml), so
 * what users know carries over; defaults are Router's where it has one.
 */
export interface GatewaySettings {
  limits: {
    parser_max_tokens: number;
    parser_max_recursion: number;
    http_max_request_bytes: number;
    max_depth: number;
    max_height: number;
    max_aliases: number;
    max_root_fields: number;
    /** Ours (no Router equivalent): selections of one response key in one selection set. */
    max_field_repetitions: number;
    /** Log what would be refused, refuse nothing: for rolling out new limits. */
    warn_only: boolean;
  };
  demand_control: {
    enabled: boolean;
    mode: 'measure' | 'enforce';
    strategy: { static_estimated: { list_size: number; max: number } };
    /** Ours: add `extensions.cost` to every response (else only when a request sends `x-cost-extensions: true`). */
    expose_in_extensions: boolean;
  };
  persisted_queries: {
    enabled: boolean;
    log_unknown: boolean;
    safelist: { enabled: boolean; require_id: boolean };
    /** Apollo persisted-query manifests (`apollo-persisted-query-manifest` format): files, read at start. */
    local_manifests: string[];
    /** Ours: the same manifests from http(s) URLs, fetched at start (deadline, size bound): one manifest for N gateways. */
    manifest_urls?: string[];
  };
  /** Automatic persisted queries (the client registers a query by its hash). */
  apq: { enabled: boolean };
  cors: {
    allow_any_origin: boolean;
    origins: string[];
    /** Regular expressions an Origin may match. */
    match_origins: string[];
    allow_credentials: boolean;
    allow_headers: string[];
    expose_headers: string[];
    methods: string[];
    max_age: string | null;
  };
  supergraph: {
    /** true, false, or 'authenticated' (a valid token is needed). */
    introspection: boolean | 'authenticated';
    /** "Did you mean …" suggestions in validation errors (they reveal field names). */
    suggestions: boolean;
  };
  telemetry: {
    metrics: {
      /** Prometheus text on `path`; with `require_scope`, only for a valid token holding that scope. */
      prometheus: { enabled: boolean; path: string; require_scope: string | null };
    };
    /** One JSON line per request (component `access`), for a `sample_rate` share of requests. */
    access_log: { enabled: boolean; sample_rate: number };
  };
  health_check: {
    /** /ready: which subgraphs must answer (`*` = all), and how often they are probed. */
    readiness: { subgraphs: string[]; interval: string };
  };
  shutdown: {
    /** On SIGTERM: stop accepting, let requests in flight finish for at most this long. */
    grace_period: string;
  };
  traffic_shaping: {
    /** Per-request deadline for the whole operation at the gateway. */
    router: { timeout: string };
    all: { timeout: string };
    subgraphs: Record<string, { timeout: string }>;
  };
  /** Ours: the audit trail of sensitive reads (gateway/audit). */
  audit: {
    enabled: boolean;
    /** The SQLite file; null = $MESH_AUDIT_DB, else <DATA_DIR or ./data>/audit.db. */
    path: string | null;
    /** How often recorded events are moved from the write-ahead journal into SQLite. */
    flush_interval: string;
    /** fsync the journal after each event: survives power loss, not only a killed gateway (slower). */
    fsync: boolean;
  };
  /** Ours, GraphOS's contracts: variants of the supergraph by @tag, each served at /contracts/<name>/graphql. */
  contracts: Record<string, ContractSettings>;
  /** The file these settings were read from (for errors that name it); not a setting. */
  source?: string;
}

export const DEFAULT_SETTINGS_FILE = fileURLToPath(new URL('../gateway.yaml', import.meta.url));

/** Defaults when no file says otherwise; production tightens what reveals the schema. */
export function defaultSettings(production = process.env.NODE_ENV === 'production'): GatewaySettings {
  return {
    limits: {
      parser_max_tokens: 15_000,
      parser_max_recursion: 500,
      http_max_request_bytes: 2_000_000,
      max_depth: 100,
      max_height: 200,
      max_aliases: 30,
      max_root_fields: 20,
      max_field_repetitions: 20,
      warn_only: false,
    },
    demand_control: { enabled: true, mode: 'enforce', strategy: { static_estimated: { list_size: 10, max: 50_000 } }, expose_in_extensions: false },
    persisted_queries: { enabled: false, log_unknown: false, safelist: { enabled: false, require_id: false }, local_manifests: [], manifest_urls: [] },
    apq: { enabled: false },
    cors: {
      allow_any_origin: false,
      origins: [],
      match_origins: [],
      allow_credentials: false,
      allow_headers: [],
      expose_headers: [],
      methods: ['GET', 'POST', 'OPTIONS'],
      max_age: null,
    },
    supergraph: { introspection: production ? 'authenticated' : true, suggestions: !production },
    telemetry: { metrics: { prometheus: { enabled: true, path: '/metrics', require_scope: null } }, access_log: { enabled: true, sample_rate: 1 } },
    health_check: { readiness: { subgraphs: ['*'], interval: '5s' } },
    shutdown: { grace_period: '10s' },
    traffic_shaping: { router: { timeout: '30s' }, all: { timeout: '30s' }, subgraphs: {} },
    audit: { enabled: true, path: null, flush_interval: '1s', fsync: false },
    contracts: {},
  };
}

const ENUMS: Record<string, readonly unknown[]> = {
  'demand_control.mode': ['measure', 'enforce'],
  'supergraph.introspection': [true, false, 'authenticated'],
  'contracts.*.max_classification': [null, 'PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'RESTRICTED'],
};
/** Maps whose keys are the user's (subgraph names), each value shaped like the template. */
const OPEN_MAPS: Record<string, unknown> = {
  'traffic_shaping.subgraphs': { timeout: '30s' },
  'contracts': { include: [], exclude: [], hide_unreachable_types: false, max_classification: null } satisfies ContractSettings,
};
/** What an open map's own keys must look like (a contract's name is a path segment). */
const OPEN_MAP_KEYS: Record<string, RegExp> = { contracts: CONTRACT_NAME };
const DURATIONS = new Set(['health_check.readiness.interval', 'shutdown.grace_period', 'traffic_shaping.router.timeout', 'traffic_shaping.all.timeout', 'traffic_shaping.subgraphs.*.timeout', 'cors.max_age', 'audit.flush_interval']);

/**
 * Reads a settings file over the defaults. Every key is checked against the defaults' shape: an
 * unknown or misspelt key, a wrong type, a bad duration is an error naming the file and the key.
 */
export function loadGatewaySettings(file: string | null, production = process.env.NODE_ENV === 'production'): GatewaySettings {
  const settings = defaultSettings(production);
  if (!file) return settings;
  const shown = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(shown, null, 'gateway settings file not found or not readable');
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(shown, null, `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new ConfigError(shown, null, 'must be a mapping of sections (limits, demand_control, …)');
  const value = (doc.toJS() ?? {}) as Record<string, unknown>;
  merge(settings as unknown as Record<string, unknown>, value, [], shown);
  settings.source = shown;
  return settings;
}

function merge(target: Record<string, unknown>, source: Record<string, unknown>, path: string[], file: string): void {
  for (const [key, value] of Object.entries(source)) {
    const at = [...path, key];
    const name = at.join('.');
    if (!Object.hasOwn(target, key)) {
      throw new ConfigError(file, name, `unknown setting (known here: ${Object.keys(target).join(', ')})`);
    }
    const template = target[key];
    if (Object.hasOwn(OPEN_MAPS, name)) {
      if (!isRecord(value)) throw new ConfigError(file, name, 'must be a mapping');
      const map: Record<string, unknown> = {};
      for (const [entry, inner] of Object.entries(value)) {
        if (!isRecord(inner)) throw new ConfigError(file, `${name}.${entry}`, 'must be a mapping');
        if (OPEN_MAP_KEYS[name] && !OPEN_MAP_KEYS[name]!.test(entry)) throw new ConfigError(file, `${name}.${entry}`, `not a valid name (${OPEN_MAP_KEYS[name]})`);
        const item = structuredClone(OPEN_MAPS[name]) as Record<string, unknown>;
        merge(item, inner, [...at, entry], file);
        map[entry] = item;
      }
      target[key] = map;
      continue;
    }
    const enumValues = ENUMS[name] ?? ENUMS[name.replace(/^contracts\.[^.]+\./, 'contracts.*.')];
    if (enumValues) {
      if (!enumValues.includes(value)) throw new ConfigError(file, name, `${JSON.stringify(value)} is not one of ${enumValues.map(String).join(', ')}`);
      target[key] = value;
    } else if (isRecord(template)) {
      if (!isRecord(value)) throw new ConfigError(file, name, 'must be a mapping');
      merge(template, value, at, file);
    } else if (Array.isArray(template)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ConfigError(file, name, 'must be a list of strings');
      if (name === 'cors.match_origins') for (const pattern of value) checkRegex(pattern, file, name);
      target[key] = value;
    } else if (typeof template === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(file, name, 'must be a non-negative number');
      target[key] = value;
    } else if (typeof template === 'boolean') {
      if (typeof value !== 'boolean') throw new ConfigError(file, name, 'must be true or false');
      target[key] = value;
    } else {
      if (typeof value !== 'string' && value !== null) throw new ConfigError(file, name, 'must be a string');
      if (value !== null && isDuration(name)) parseDuration(value, file, name);
      target[key] = value;
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDuration = (name: string) => DURATIONS.has(name) || DURATIONS.has(name.replace(/^traffic_shaping\.subgraphs\.[^.]+\./, 'traffic_shaping.subgraphs.*.'));

function checkRegex(pattern: string, file: string, key: string): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new ConfigError(file, key, `invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
}

/** Router-style durations: `30s`, `500ms`, `2m`, `1h`. Returns milliseconds. */
export function parseDuration(text: string, file = 'settings', key = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!match) throw new ConfigError(file, key, `${JSON.stringify(text)} is not a duration (e.g. 500ms, 30s, 2m)`);
  const n = Number(match[1]);
  return Math.round(n * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h']);
}

/** The deadline of one subgraph's fetches, in milliseconds. */
export function subgraphTimeoutMs(settings: GatewaySettings, subgraph: string): number {
  return parseDuration(settings.traffic_shaping.subgraphs[subgraph]?.timeout ?? settings.traffic_shaping.all.timeout);
}
