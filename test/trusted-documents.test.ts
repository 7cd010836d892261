import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../gateway/config/config-error.js';
import { defaultSettings, type GatewaySettings } from '../gateway/config/gateway-settings.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { ApqStore } from '../gateway/trusted-documents/apq-store.js';
import { loadManifests, readManifest } from '../gateway/trusted-documents/manifest.js';
import { normalizeDocument } from '../gateway/trusted-documents/normalize.js';
import { TrustedDocuments, type DocumentRequest } from '../gateway/trusted-documents/trusted-documents.js';
import type { Logger } from '../subgraphs/mesh/logger.js';
import { HttpError } from '../subgraphs/mesh/http.js';
import { postGraphQL, startMesh, testConfig, type TestMesh } from './helpers/mesh.js';

const CATEGORIES = `query Categories { categories { ...CategoryFields } }
fragment CategoryFields on Category { id name }`;
const PRODUCTS = 'query Products($first: Int) { products(first: $first) { id } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let dir: string;
let manifestFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
  manifestFile = writeManifest('manifest.json', [
    { id: 'categories-v1', name: 'Categories', type: 'query', body: CATEGORIES },
    { id: sha256(PRODUCTS), name: 'Products', type: 'query', body: PRODUCTS },
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeManifest(name: string, operations: unknown, extra: Record<string, unknown> = {}): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations, ...extra }));
  return file;
}

type PqChanges = Omit<Partial<GatewaySettings['persisted_queries']>, 'safelist'> & { safelist?: Partial<GatewaySettings['persisted_queries']['safelist']> };

function settings(pq: PqChanges = {}, apq = false): GatewaySettings {
  const s = defaultSettings(false);
  s.persisted_queries = {
    enabled: true,
    log_unknown: pq.log_unknown ?? false,
    safelist: { enabled: false, require_id: false, ...pq.safelist },
    local_manifests: pq.local_manifests ?? [manifestFile],
    ...(pq.enabled === false ? { enabled: false, local_manifests: [] } : {}),
  };
  s.apq.enabled = apq;
  return s;
}

function recordingLog(): Logger & { warnings: { message: string; fields?: Record<string, unknown> }[] } {
  const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push({ message, fields }) };
}

/** The coded refusal `resolve` throws, or 'ok'. */
function outcome(documents: TrustedDocuments, request: DocumentRequest): string {
  try {
    documents.resolve(request);
    return 'ok';
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
}

const byId = (id: string, query?: string): DocumentRequest => ({ query, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

describe('persisted query manifests', () => {
  it('reads the apollo-persisted-query-manifest format, operations by id', () => {
    const operations = loadManifests([manifestFile]);
    expect([...operations.keys()]).toEqual(['categories-v1', sha256(PRODUCTS)]);
    expect(operations.get('categories-v1')).toEqual({ id: 'categories-v1', name: 'Categories', type: 'query', body: CATEGORIES });
  });

  it.each([
    ['not JSON', '{"format":', /m\.json: not valid JSON/],
    ['another format', JSON.stringify({ format: 'relay', version: 1, operations: [] }), /m\.json: format: must be "apollo-persisted-query-manifest"/],
    ['version 2', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }), /m\.json: version: must be 1/],
    ['an unknown top-level key', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [], extra: 1 }), /m\.json: extra: unknown key/],
    ['operations not a list', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: {} }), /m\.json: operations: must be a list/],
    ['an operation without id', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ name: 'A', type: 'query', body: '{ a }' }] }), /m\.json: operations\[0\]\.id: must be a non-empty string/],
    ['an unknown operation type', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: '1', name: 'A', type: 'fetch', body: '{ a }' }] }), /operations\[0\]\.type: must be one of query, mutation, subscription/],
    ['a body that does not parse', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: '1', name: 'A', type: 'query', body: '{ a' }] }), /operations\[0\]\.body: Syntax Error/],
    ['a misspelt operation key', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: '1', name: 'A', type: 'query', bdy: '{ a }' }] }), /operations\[0\]\.bdy: unknown key/],
    [
      'one id twice',
      JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: '1', name: 'A', type: 'query', body: '{ a }' }, { id: '1', name: 'B', type: 'query', body: '{ b }' }] }),
      /operations\[1\]\.id: "1" is already the id of operations\[0\]/,
    ],
  ])('refuses a manifest with %s, naming the file and the key', (_, text, message) => {
    expect(() => readManifest(text, 'm.json')).toThrow(ConfigError);
    expect(() => readManifest(text, 'm.json')).toThrow(message);
  });

  it('refuses one id with two bodies across manifests, and accepts one shared operation', () => {
    const other = writeManifest('other.json', [{ id: 'categories-v1', name: 'Other', type: 'query', body: '{ products { id } }' }]);
    expect(() => loadManifests([manifestFile, other])).toThrow(/other\.json: operations\[0\]\.id: "categories-v1" is already the id of another body \(.*manifest\.json operations\[0\]\)/);
    const shared = writeManifest('shared.json', [{ id: 'categories-v1', name: 'Categories', type: 'query', body: CATEGORIES }]);
    expect(loadManifests([manifestFile, shared]).size).toBe(2);
  });

  it('refuses a manifest file that does not exist', () => {
    expect(() => loadManifests([join(dir, 'missing.json')])).toThrow(/missing\.json: persisted query manifest not found/);
  });
});

describe('safelist normalisation (as Router: ignored tokens and the order of definitions do not count)', () => {
  it.each([
    ['whitespace and commas', 'query Categories{categories{...CategoryFields}},,, fragment CategoryFields on Category{id,name}'],
    ['comments', '# list them\nquery Categories { categories { ...CategoryFields } } # done\nfragment CategoryFields on Category { id name }'],
    ['definitions in another order', 'fragment CategoryFields on Category { id name } query Categories { categories { ...CategoryFields } }'],
  ])('the same document with other %s matches', (_, text) => {
    expect(normalizeDocument(text)).toBe(normalizeDocument(CATEGORIES));
  });

  it.each([
    ['fields in another order', 'query Categories { categories { ...CategoryFields } } fragment CategoryFields on Category { name id }'],
    ['another operation name', 'query Cats { categories { ...CategoryFields } } fragment CategoryFields on Category { id name }'],
    ['another argument value', 'query Products($first: Int) { products(first: 5) { id } }'],
  ])('a document with %s does not', (_, text) => {
    expect(normalizeDocument(text)).not.toBe(normalizeDocument(CATEGORIES));
    expect(normalizeDocument(text)).not.toBe(normalizeDocument(PRODUCTS));
  });

  it('a text that does not lex, or is longer than the limit, matches nothing', () => {
    expect(normalizeDocument('{ a(x: "unterminated) }')).toBeNull();
    expect(normalizeDocument('{ a b c d }', 3)).toBeNull();
  });
});

describe('trusted documents: the modes', () => {
  it('persisted queries: an id from the manifest becomes its body, with or without that body, even with APQ off', () => {
    const documents = new TrustedDocuments(settings(), null, recordingLog());
    const request = byId('categories-v1');
    expect(documents.resolve(request)).toBe(true);
    expect(request).toEqual({ query: CATEGORIES, extensions: {} });
    const withBody = byId('categories-v1', '  query Categories { categories { ...CategoryFields } } fragment CategoryFields on Category { id, name }');
    expect(documents.resolve(withBody)).toBe(true);
    expect(withBody.query).toBe(CATEGORIES);
  });

  it('persisted queries: an unknown id is a 404 PERSISTED_QUERY_NOT_IN_LIST; an id with another body a 400', () => {
    const documents = new TrustedDocuments(settings(), null, recordingLog());
    expect(outcome(documents, byId('nope'))).toBe('404 PERSISTED_QUERY_NOT_IN_LIST');
    expect(outcome(documents, byId('categories-v1', '{ products { id } }'))).toBe('400 CANNOT_SEND_PQ_ID_AND_BODY');
    // Freeform bodies still run: no safelist.
    expect(outcome(documents, { query: '{ products { id } }' })).toBe('ok');
  });

  it('a malformed persistedQuery extension is a 400 BAD_REQUEST, whatever the modes', () => {
    for (const documents of [new TrustedDocuments(settings(), null, recordingLog()), new TrustedDocuments(settings({ enabled: false }), null, recordingLog())]) {
      expect(outcome(documents, { extensions: { persistedQuery: { version: 2, sha256Hash: 'categories-v1' } } })).toBe('400 BAD_REQUEST');
      expect(outcome(documents, { extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } })).toBe('400 BAD_REQUEST');
      expect(outcome(documents, { extensions: { persistedQuery: 'categories-v1' } })).toBe('400 BAD_REQUEST');
    }
  });

  it('log_unknown: a body in no manifest is logged, and runs', () => {
    const log = recordingLog();
    const documents = new TrustedDocuments(settings({ log_unknown: true }), null, log);
    expect(outcome(documents, { query: CATEGORIES.replace(/\s+/g, ' ') })).toBe('ok');
    expect(log.warnings).toEqual([]);
    expect(outcome(documents, { query: '{ products { id } }', operationName: null })).toBe('ok');
    expect(log.warnings).toEqual([{ message: expect.stringMatching(/unknown operation/), fields: { operationName: null, sha256: sha256('{ products { id } }'), body: '{ products { id } }' } }]);
  });

  it('safelist: a body in no manifest is a 403 QUERY_NOT_IN_SAFELIST, decided before any parsing', () => {
    const log = recordingLog();
    const documents = new TrustedDocuments(settings({ safelist: { enabled: true }, log_unknown: true }), null, log);
    expect(outcome(documents, { query: 'fragment CategoryFields on Category { id name }\n# reordered\nquery Categories { categories { ...CategoryFields } }' })).toBe('ok');
    expect(outcome(documents, { query: '{ products { id } }' })).toBe('403 QUERY_NOT_IN_SAFELIST');
    // Not even a parse error: the body is refused before anything parses it.
    expect(outcome(documents, { query: '{ products { id ' })).toBe('403 QUERY_NOT_IN_SAFELIST');
    expect(outcome(documents, { query: `{ categories { ${'id '.repeat(100_000)}} }` })).toBe('403 QUERY_NOT_IN_SAFELIST');
    expect(log.warnings).toHaveLength(3);
    // Ids still work.
    expect(outcome(documents, byId('categories-v1'))).toBe('ok');
  });

  it('safelist: introspection-only documents pass while introspection is on (Router), not when it is off', () => {
    const on = new TrustedDocuments(settings({ safelist: { enabled: true } }), null, recordingLog());
    expect(outcome(on, { query: '{ __schema { types { name } } }' })).toBe('ok');
    expect(outcome(on, { query: 'query { ...I __typename } fragment I on Query { __type(name: "Customer") { name } }' })).toBe('ok');
    expect(outcome(on, { query: '{ __typename categories { id } }' })).toBe('403 QUERY_NOT_IN_SAFELIST');
    const offSettings = settings({ safelist: { enabled: true } });
    offSettings.supergraph.introspection = false;
    const off = new TrustedDocuments(offSettings, null, recordingLog());
    expect(outcome(off, { query: '{ __schema { types { name } } }' })).toBe('403 QUERY_NOT_IN_SAFELIST');
  });

  it('require_id: a request without an id is a 400 PERSISTED_QUERY_ID_REQUIRED, even with a safelisted body', () => {
    const documents = new TrustedDocuments(settings({ safelist: { enabled: true, require_id: true } }), null, recordingLog());
    expect(outcome(documents, { query: CATEGORIES })).toBe('400 PERSISTED_QUERY_ID_REQUIRED');
    expect(outcome(documents, {})).toBe('400 PERSISTED_QUERY_ID_REQUIRED');
    expect(outcome(documents, byId('categories-v1'))).toBe('ok');
  });

  it('APQ off and no manifest: an id is a 400 PERSISTED_QUERY_NOT_SUPPORTED', () => {
    const documents = new TrustedDocuments(settings({ enabled: false }), null, recordingLog());
    expect(outcome(documents, byId(sha256(PRODUCTS)))).toBe('400 PERSISTED_QUERY_NOT_SUPPORTED');
    expect(outcome(documents, { query: '{ anything }' })).toBe('ok');
  });

  it('APQ on: an unknown id goes on to Apollo (PERSISTED_QUERY_NOT_FOUND), a registered one becomes its body, a wrong hash is a 400', async () => {
    const store = new ApqStore();
    const documents = new TrustedDocuments(settings({ enabled: false }, true), store, recordingLog());
    const query = '{ categories { id } }';
    const miss = byId(sha256(query));
    expect(documents.resolve(miss)).toBe(false);
    expect(miss.query).toBeUndefined();
    expect(outcome(documents, byId(sha256(query), query))).toBe('ok');
    expect(outcome(documents, byId(sha256('other'), query))).toBe('400 BAD_REQUEST');
    await store.set(`apq:${sha256(query)}`, query); // what Apollo Server does once the operation validated
    const hit = byId(sha256(query));
    expect(documents.resolve(hit)).toBe(true);
    expect(hit).toEqual({ query, extensions: {} });
  });

  it("APQ store: what Apollo Server registers is what the edge's lookup reads (Apollo's key scheme)", async () => {
    const store = new ApqStore();
    const server = new ApolloServer({ typeDefs: 'type Query { a: Int }', resolvers: { Query: { a: () => 1 } }, persistedQueries: { cache: store } });
    await server.start();
    try {
      const query = '{ a }';
      const result = await server.executeOperation({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
      expect(result.body.kind === 'single' && result.body.singleResult.data).toEqual({ a: 1 });
      await new Promise((resolve) => setImmediate(resolve)); // Apollo registers without awaiting
      expect(store.lookup(sha256(query))).toBe(query);
    } finally {
      await server.stop();
    }
  });

  it.each([
    [{ safelist: { enabled: true, require_id: false } }, true, /apq\.enabled: must be false when persisted_queries\.safelist is enabled/],
    [{ safelist: { enabled: false, require_id: true } }, false, /persisted_queries\.safelist\.require_id: needs persisted_queries\.safelist\.enabled/],
    [{ local_manifests: [] }, false, /persisted_queries\.local_manifests: persisted queries need at least one manifest file/],
  ])('refuses settings Router refuses: %j, apq %s', (pq, apq, message) => {
    expect(() => new TrustedDocuments(settings(pq, apq), apq ? new ApqStore() : null, recordingLog())).toThrow(message);
  });
});

describe('trusted documents over HTTP', () => {
  let mesh: TestMesh;
  const gateways: RunningGateway[] = [];
  const gateway = async (s: GatewaySettings) => {
    const g = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ settings: s }) });
    gateways.push(g);
    return g;
  };
  const send = async (url: string, body: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
  };
  const code = (r: { body: { errors?: { extensions?: { code?: string } }[] } }) => r.body.errors?.[0]?.extensions?.code;

  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await mesh?.close();
  });

  it('runs a manifest operation sent by id (POST and GET), and refuses an unknown id with 404', async () => {
    const g = await gateway(settings());
    const byIdResult = await send(g.graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: 'categories-v1' } } });
    expect(byIdResult.status).toBe(200);
    expect(byIdResult.body.data.categories[0]).toEqual({ id: '1', name: expect.any(String) });
    const params = new URLSearchParams({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(PRODUCTS) } }), variables: JSON.stringify({ first: 2 }) });
    const overGet = await fetch(`${g.graphqlUrl}?${params}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(overGet.status).toBe(200);
    expect(((await overGet.json()) as any).data.products).toHaveLength(2);
    const unknown = await send(g.graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: 'nope' } } });
    expect({ status: unknown.status, code: code(unknown) }).toEqual({ status: 404, code: 'PERSISTED_QUERY_NOT_IN_LIST' });
  });

  it('resolves the id before the request limits: a manifest operation over a limit is refused by the guard', async () => {
    const s = settings();
    s.limits.max_height = 2;
    const g = await gateway(s);
    const refused = await send(g.graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: 'categories-v1' } } });
    expect({ status: refused.status, code: code(refused) }).toEqual({ status: 400, code: 'MAX_HEIGHT_LIMIT' });
  });

  it('safelist with require_id: only ids run', async () => {
    const g = await gateway(settings({ safelist: { enabled: true, require_id: true } }));
    const body = await send(g.graphqlUrl, { query: CATEGORIES });
    expect({ status: body.status, code: code(body) }).toEqual({ status: 400, code: 'PERSISTED_QUERY_ID_REQUIRED' });
    const id = await send(g.graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: 'categories-v1' } } });
    expect(id.status).toBe(200);
  });

  it('safelist: a reformatted manifest body runs, any other body is a 403', async () => {
    const g = await gateway(settings({ safelist: { enabled: true } }));
    const listed = await send(g.graphqlUrl, { query: 'fragment CategoryFields on Category { id, name } query Categories { categories { ...CategoryFields } }' });
    expect(listed.status).toBe(200);
    expect(listed.body.data.categories.length).toBeGreaterThan(0);
    const other = await send(g.graphqlUrl, { query: '{ categories { id } }' });
    expect({ status: other.status, code: code(other) }).toEqual({ status: 403, code: 'QUERY_NOT_IN_SAFELIST' });
  });

  it('APQ on: a query registered by hash runs by hash alone; APQ off: an unknown hash is a 400 PERSISTED_QUERY_NOT_SUPPORTED', async () => {
    const on = await gateway(settings({ enabled: false }, true));
    const query = '{ categories { id } }';
    const ext = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const miss = await send(on.graphqlUrl, { extensions: ext });
    expect({ status: miss.status, code: code(miss) }).toEqual({ status: 200, code: 'PERSISTED_QUERY_NOT_FOUND' });
    const register = await send(on.graphqlUrl, { query, extensions: ext });
    expect(register.status).toBe(200);
    const hit = await send(on.graphqlUrl, { extensions: ext });
    expect(hit.status).toBe(200);
    expect(hit.body).toEqual(register.body);
    const off = await gateway(settings({ enabled: false }, false));
    const notSupported = await send(off.graphqlUrl, { extensions: ext });
    expect({ status: notSupported.status, code: code(notSupported) }).toEqual({ status: 400, code: 'PERSISTED_QUERY_NOT_SUPPORTED' });
    // Plain queries are unaffected.
    expect((await postGraphQL(off.graphqlUrl, query)).status).toBe(200);
  });
});
