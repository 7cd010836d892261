import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';

/**
 * Rover's `supergraph.yaml`, validated strictly: an unknown or misspelled key is an error naming
 * the file and the key, never silently ignored.
 *
 *   federation_version: =2.9.0
 *   subgraphs:
 *     customers:
 *       routing_url: http://localhost:4001/graphql
 *       schema:
 *         file: ./subgraphs/customers/schema.graphql   # or: subgraph_url: http://…
 */
export type SubgraphSchemaSource =
  | { kind: 'file'; path: string }
  | { kind: 'introspection'; url: string; headers: Record<string, string> };

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schema: SubgraphSchemaSource;
}

export interface SupergraphConfig {
  file: string;
  federationVersion: string | null;
  subgraphs: SubgraphEntry[];
}

const TOP_LEVEL_KEYS = ['federation_version', 'subgraphs'];
const SUBGRAPH_KEYS = ['routing_url', 'schema'];
const SCHEMA_KEYS = ['file', 'subgraph_url', 'introspection_headers'];
const SUBGRAPH_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function rejectUnknownKeys(file: string, path: string, value: Record<string, unknown>, allowed: string[]) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(file, path ? `${path}.${key}` : key, `unknown key (allowed here: ${allowed.join(', ')})`);
    }
  }
}

export function loadSupergraphConfig(path: string): SupergraphConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(path, null, 'file not found or not readable');
  }
  return parseSupergraphConfig(text, path, dirname(file));
}

/** Parses the YAML text; relative schema files resolve against `baseDir` (the YAML's folder, as Rover does). */
export function parseSupergraphConfig(text: string, file: string, baseDir: string): SupergraphConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const line = error.linePos?.[0];
    const isDuplicate = error.code === 'DUPLICATE_KEY';
    throw new ConfigError(
      file,
      isDuplicate ? keyPathAt(doc.contents, error.pos[0]) : null,
      `${isDuplicate ? 'duplicate key' : 'invalid YAML'}${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${error.message.split('\n')[0]}`,
    );
  }
  const root: unknown = doc.toJS();
  if (!isRecord(root)) throw new ConfigError(file, null, 'expected a mapping with `federation_version` and `subgraphs`');
  rejectUnknownKeys(file, '', root, TOP_LEVEL_KEYS);

  const federationVersion = root.federation_version == null ? null : String(root.federation_version);
  if (federationVersion !== null && !/^=?2(\.\d+){0,2}$/.test(federationVersion)) {
    throw new ConfigError(file, 'federation_version', `"${federationVersion}" is not a Federation 2 version (use e.g. =2.9.0 or 2)`);
  }

  if (!isRecord(root.subgraphs) || Object.keys(root.subgraphs).length === 0) {
    throw new ConfigError(file, 'subgraphs', 'missing or empty: list at least one subgraph');
  }
  const subgraphs: SubgraphEntry[] = [];
  for (const [name, entry] of Object.entries(root.subgraphs)) {
    const at = `subgraphs.${name}`;
    if (!SUBGRAPH_NAME.test(name)) throw new ConfigError(file, at, 'a subgraph name must start with a letter and use letters, digits, _ or -');
    if (!isRecord(entry)) throw new ConfigError(file, at, 'expected a mapping with `routing_url` and `schema`');
    rejectUnknownKeys(file, at, entry, SUBGRAPH_KEYS);
    const routingUrl = entry.routing_url;
    if (typeof routingUrl !== 'string' || !isHttpUrl(routingUrl)) {
      throw new ConfigError(file, `${at}.routing_url`, 'missing or not an http(s) URL');
    }
    if (!isRecord(entry.schema)) throw new ConfigError(file, `${at}.schema`, 'missing: give `file` or `subgraph_url`');
    rejectUnknownKeys(file, `${at}.schema`, entry.schema, SCHEMA_KEYS);
    const { file: schemaFile, subgraph_url: subgraphUrl, introspection_headers: headers } = entry.schema;
    if ((schemaFile === undefined) === (subgraphUrl === undefined)) {
      throw new ConfigError(file, `${at}.schema`, 'give exactly one of `file` or `subgraph_url`');
    }
    if (schemaFile !== undefined) {
      if (typeof schemaFile !== 'string' || schemaFile === '') throw new ConfigError(file, `${at}.schema.file`, 'must be a path');
      subgraphs.push({ name, routingUrl, schema: { kind: 'file', path: resolve(baseDir, schemaFile) } });
    } else {
      if (typeof subgraphUrl !== 'string' || !isHttpUrl(subgraphUrl)) {
        throw new ConfigError(file, `${at}.schema.subgraph_url`, 'must be an http(s) URL');
      }
      if (headers !== undefined && !isRecord(headers)) {
        throw new ConfigError(file, `${at}.schema.introspection_headers`, 'must be a mapping of header names to values');
      }
      const stringHeaders = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
      subgraphs.push({ name, routingUrl, schema: { kind: 'introspection', url: subgraphUrl, headers: stringHeaders } });
    }
  }
  return { file, federationVersion, subgraphs };
}

/** The dotted path of the mapping key that starts at `offset` (e.g. `subgraphs.customers`), to name a duplicate key. */
function keyPathAt(node: unknown, offset: number, path: string[] = []): string | null {
  if (!isMap(node)) return null;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (isScalar(pair.key) && pair.key.range?.[0] === offset) return [...path, key].join('.');
    const inner = keyPathAt(pair.value, offset, [...path, key]);
    if (inner) return inner;
  }
  return null;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
