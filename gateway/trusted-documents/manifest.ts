import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { GraphQLError, parse } from 'graphql';
import { ConfigError } from '../config/config-error.js';

/**
 * Apollo's persisted query manifest, the format `generate-persisted-query-manifest`
 * (@apollo/generate-persisted-query-manifest) writes and Apollo Router's `local_manifests` reads:
 *
 *   { "format": "apollo-persisted-query-manifest", "version": 1,
 *     "operations": [ { "id": "…", "name": "GetCustomer", "type": "query", "body": "query GetCustomer { … }" } ] }
 */
export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';
const TOP_KEYS = ['format', 'version', 'operations'];
const OPERATION_KEYS = ['id', 'name', 'type', 'body'];
const TYPES = ['query', 'mutation', 'subscription'];

/**
 * Reads and validates manifests, every one at start: a mistake stops the gateway with the file and
 * the key (`operations[3].body: Syntax Error …`). Ids are unique: one id in two places must mean the
 * very same body (two clients' manifests may both list a shared operation), anything else is an
 * error. Returns the operations by id.
 */
export function loadManifests(files: readonly string[], fetched: readonly { source: string; text: string }[] = []): Map<string, ManifestOperation> {
  const operations = new Map<string, ManifestOperation & { at: string }>();
  const read = (file: string) => {
    const shown = relative(process.cwd(), file) || file;
    try {
      return { shown, text: readFileSync(file, 'utf8') };
    } catch {
      throw new ConfigError(shown, null, 'persisted query manifest not found or not readable');
    }
  };
  // Files, then manifests fetched from persisted_queries.manifest_urls (manifest-url.ts).
  for (const { shown, text } of [...files.map(read), ...fetched.map((m) => ({ shown: m.source, text: m.text }))]) {
    for (const [index, operation] of readManifest(text, shown).entries()) {
      const at = `${shown} operations[${index}]`;
      const known = operations.get(operation.id);
      if (known && known.body !== operation.body) {
        throw new ConfigError(shown, `operations[${index}].id`, `"${operation.id}" is already the id of another body (${known.at})`);
      }
      if (!known) operations.set(operation.id, { ...operation, at });
    }
  }
  return new Map([...operations].map(([id, { at: _, ...operation }]) => [id, operation]));
}

/** Validates one manifest's text; `file` names it in errors. */
export function readManifest(text: string, file: string): ManifestOperation[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, null, `not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(value)) throw new ConfigError(file, null, `must be a JSON object with format "${MANIFEST_FORMAT}"`);
  for (const key of Object.keys(value)) if (!TOP_KEYS.includes(key)) throw new ConfigError(file, key, `unknown key (known: ${TOP_KEYS.join(', ')})`);
  if (value.format !== MANIFEST_FORMAT) throw new ConfigError(file, 'format', `must be "${MANIFEST_FORMAT}", not ${JSON.stringify(value.format)}`);
  if (value.version !== 1) throw new ConfigError(file, 'version', `must be 1, not ${JSON.stringify(value.version)}`);
  if (!Array.isArray(value.operations)) throw new ConfigError(file, 'operations', 'must be a list of operations');

  const ids = new Map<string, number>();
  return value.operations.map((entry: unknown, index: number): ManifestOperation => {
    const at = `operations[${index}]`;
    if (!isRecord(entry)) throw new ConfigError(file, at, 'must be an object with id, name, type and body');
    for (const key of Object.keys(entry)) {
      if (!OPERATION_KEYS.includes(key)) throw new ConfigError(file, `${at}.${key}`, `unknown key (known: ${OPERATION_KEYS.join(', ')})`);
    }
    const { id, name, type, body } = entry;
    if (typeof id !== 'string' || id === '') throw new ConfigError(file, `${at}.id`, 'must be a non-empty string');
    if (typeof name !== 'string') throw new ConfigError(file, `${at}.name`, 'must be a string (the operation name)');
    if (typeof type !== 'string' || !TYPES.includes(type)) throw new ConfigError(file, `${at}.type`, `must be one of ${TYPES.join(', ')}`);
    if (typeof body !== 'string' || body.trim() === '') throw new ConfigError(file, `${at}.body`, 'must be a non-empty GraphQL document');
    if (ids.has(id)) throw new ConfigError(file, `${at}.id`, `"${id}" is already the id of operations[${ids.get(id)}]`);
    ids.set(id, index);
    try {
      parse(body, { noLocation: true });
    } catch (error) {
      if (error instanceof GraphQLError) throw new ConfigError(file, `${at}.body`, error.message);
      throw error;
    }
    return { id, name, type: type as ManifestOperation['type'], body };
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
