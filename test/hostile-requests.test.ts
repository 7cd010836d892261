import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../gateway/config/gateway-settings.js';
import { fullAccess, startMesh, TEST_SECRET, testConfig, type TestMesh } from './helpers/mesh.js';

/**
 * Every client mistake or hostile request is an HTTP 4xx with a GraphQL error and a code, never a
 * 500, a crash or a hang; afterwards the gateway still answers. Each row is one request, the status
 * and the code it must get. The gateway runs with a small body limit, a manifest of trusted
 * documents, introspection off and no suggestions.
 */

const MAX_BYTES = 300_000;
const MANIFEST_ID = 'c0ffee';
const MANIFEST_BODY = 'query Categories { categories { id name } }';

let mesh: TestMesh;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  const manifest = join(dir, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: MANIFEST_ID, name: 'Categories', type: 'query', body: MANIFEST_BODY }] }),
  );
  const settings = defaultSettings(false);
  settings.limits.http_max_request_bytes = MAX_BYTES;
  settings.persisted_queries = { enabled: true, log_unknown: false, safelist: { enabled: false, require_id: false }, local_manifests: [manifest] };
  settings.supergraph = { introspection: false, suggestions: false };
  mesh = await startMesh({ config: testConfig({ settings }) });
});
afterAll(async () => {
  await mesh?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface RawRequest {
  /** Bytes written as is on a fresh connection (what Node's HTTP parser itself refuses). */
  wire?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A string or bytes as is; anything else is sent as JSON. */
  body?: string | Buffer | unknown;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request over node:http (any method, raw bytes), bounded in time: a hang fails the row. */
function send(url: string, r: RawRequest, timeoutMs = 20_000): Promise<RawResponse> {
  if (r.wire !== undefined) return sendWire(new URL(url), r.wire, timeoutMs);
  const method = r.method ?? 'POST';
  const body = r.body === undefined ? undefined : typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body);
  const target = new URL(r.path ?? '/graphql', url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      target,
      { method, agent: false, timeout: timeoutMs, headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...r.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes bytes on a socket and reads the answer until the server closes the connection. */
function sendWire(url: URL, wire: string, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(wire));
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), headers: {}, text: end === -1 ? '' : text.slice(end + 4) });
    });
  });
}

const post = (body: unknown, headers: Record<string, string> = {}): RawRequest => ({ body, headers });
const query = (q: string, extra: Record<string, unknown> = {}): RawRequest => post({ query: q, ...extra });
/** A GET with the header Apollo's CSRF prevention asks of non-browser clients. */
const get = (params: Record<string, string>, headers: Record<string, string> = { 'apollo-require-preflight': 'true' }): RawRequest => ({ method: 'GET', path: `/graphql?${new URLSearchParams(params)}`, headers });
const repeat = (n: number, f: (i: number) => string, sep = ' ') => Array.from({ length: n }, (_, i) => f(i)).join(sep);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const secret = new TextEncoder().encode(TEST_SECRET);

/** Fragment doubling: F30 spreads F29 twice, … F1 spreads F0 twice: 2^30 fields expanded, 60 spreads written. */
const fragmentBomb = `query { categories { ...F30 } } ${repeat(30, (i) => `fragment F${i + 1} on Category { ...F${i} ...F${i} }`)} fragment F0 on Category { id }`;
/** 60 round trips customer → orders → customer: depth 121. */
const deepQuery = `{ customer(id: "1") { ${'orders { customer { '.repeat(60)}id${' } }'.repeat(60)} } }`;

type Row = [name: string, status: number, code: string, request: () => RawRequest | Promise<RawRequest>];

const CORPUS: Row[] = [
  // The body: not JSON, not an object, too big, not UTF-8.
  ['invalid JSON', 400, 'BAD_REQUEST', () => post('{"query": "{ categories { id } }"')],
  ['JSON with a trailing comma', 400, 'BAD_REQUEST', () => post('{"query": "{ categories { id } }",}')],
  ['a JSON array (batching is off)', 400, 'BAD_REQUEST', () => post([{ query: '{ categories { id } }' }])],
  ['an empty JSON array', 400, 'BAD_REQUEST', () => post('[]')],
  ['a JSON number', 400, 'BAD_REQUEST', () => post('42')],
  ['a JSON string', 400, 'BAD_REQUEST', () => post('"{ categories { id } }"')],
  ['JSON null', 400, 'BAD_REQUEST', () => post('null')],
  ['JSON true', 400, 'BAD_REQUEST', () => post('true')],
  ['an empty body', 400, 'BAD_REQUEST', () => post('')],
  ['an empty object', 400, 'BAD_REQUEST', () => post({})],
  ['a body over http_max_request_bytes', 413, 'PAYLOAD_TOO_LARGE', () => query(`{ categories { id } } # ${'x'.repeat(MAX_BYTES)}`)],
  ['a chunked body over http_max_request_bytes', 413, 'PAYLOAD_TOO_LARGE', () => ({ body: Buffer.alloc(MAX_BYTES * 2, 0x20), headers: { 'transfer-encoding': 'chunked' } })],
  ['invalid UTF-8 bytes', 400, 'BAD_REQUEST', () => post(Buffer.concat([Buffer.from('{"query": "{ categories { name'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(' } }"}')]))],
  ['an overlong UTF-8 encoding of "/"', 400, 'BAD_REQUEST', () => post(Buffer.concat([Buffer.from('{"query": "{ categories { id } }", "x": "'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]))],
  ['a UTF-16 body', 400, 'BAD_REQUEST', () => post(Buffer.from('{"query": "{ categories { id } }"}', 'utf16le'))],
  ['a gzip-encoded body', 400, 'BAD_REQUEST', () => ({ body: gzipSync(JSON.stringify({ query: '{ categories { id } }' })), headers: { 'content-encoding': 'gzip' } })],
  ['a text/plain body (CSRF prevention)', 400, 'BAD_REQUEST', () => ({ body: JSON.stringify({ query: '{ categories { id } }' }), headers: { 'content-type': 'text/plain' } })],

  // The request's fields.
  ['query is a number', 400, 'BAD_REQUEST', () => post({ query: 42 })],
  ['query is an object', 400, 'BAD_REQUEST', () => post({ query: { categories: 'id' } })],
  ['query is an empty string', 400, 'BAD_REQUEST', () => post({ query: '' })],
  ['query is null', 400, 'BAD_REQUEST', () => post({ query: null })],
  ['variables is a list', 400, 'BAD_REQUEST', () => query('{ categories { id } }', { variables: [1, 2] })],
  ['variables is a string', 400, 'BAD_REQUEST', () => query('{ categories { id } }', { variables: '{"id": 1}' })],
  ['operationName is a number', 400, 'BAD_REQUEST', () => query('{ categories { id } }', { operationName: 7 })],
  ['extensions is a string', 400, 'BAD_REQUEST', () => query('{ categories { id } }', { extensions: 'persisted' })],

  // Variables.
  ['a variable of the wrong type', 400, 'BAD_USER_INPUT', () => query('query($id: ID!) { customer(id: $id) { id } }', { variables: { id: { nested: true } } })],
  ['a misspelt enum value in a variable', 400, 'BAD_USER_INPUT', () => query('query($r: Region) { customers(region: $r) { id } }', { variables: { r: 'EUROP' } })],
  ['a missing required variable', 400, 'BAD_USER_INPUT', () => query('query($id: ID!) { customer(id: $id) { id } }', { variables: {} })],
  ['a required variable sent as null', 400, 'BAD_USER_INPUT', () => query('query($id: ID!) { customer(id: $id) { id } }', { variables: { id: null } })],
  ['a Boolean variable sent as a string', 400, 'BAD_USER_INPUT', () => query('query($b: Boolean!) { categories @include(if: $b) { id } }', { variables: { b: 'yes' } })],
  ['an Int variable that is a string', 400, 'BAD_USER_INPUT', () => query('query($n: Int) { products(first: $n) { id } }', { variables: { n: 'ten' } })],
  ['an Int variable that is a fraction', 400, 'BAD_USER_INPUT', () => query('query($n: Int) { products(first: $n) { id } }', { variables: { n: 1.5 } })],
  ['an Int variable out of 32-bit range', 400, 'COST_ESTIMATED_TOO_EXPENSIVE', () => query('query($n: Int) { products(first: $n) { id } }', { variables: { n: 2 ** 40 } })],
  ['variables nested 100,000 deep', 400, 'BAD_USER_INPUT', () => post(`{"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"id": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`)],
  ['__proto__ as a variable', 400, 'BAD_USER_INPUT', () => post('{"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"__proto__": {"id": "1"}}}')],
  ['__proto__ as an operation name', 400, 'OPERATION_RESOLUTION_FAILURE', () => query('query A { categories { id } }', { operationName: '__proto__' })],
  ['20,000 variable definitions', 400, 'GRAPHQL_PARSE_FAILED', () => query(`query(${repeat(20_000, (i) => `$v${i}: Int`)}) { categories { id } }`)],
  ['20,000 undeclared variables and a missing required one', 400, 'BAD_USER_INPUT', () => query('query($id: ID!) { customer(id: $id) { id } }', { variables: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`v${i}`, i])) })],

  // Operations.
  ['an unknown operation name', 400, 'OPERATION_RESOLUTION_FAILURE', () => query('query A { categories { id } }', { operationName: 'B' })],
  ['a lone surrogate as the operation name', 400, 'OPERATION_RESOLUTION_FAILURE', () => post('{"query": "query A { categories { id } }", "operationName": "\\ud800"}')],
  ['two anonymous operations', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { id } } { products { id } }')],
  ['two named operations and no name', 400, 'OPERATION_RESOLUTION_FAILURE', () => query('query A { categories { id } } query B { products { id } }')],
  ['only a fragment', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('fragment F on Category { id }')],
  ['a mutation (the schema has none)', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('mutation { deleteEverything }')],
  ['a subscription (the schema has none)', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('subscription { categories { id } }')],

  // Syntax.
  ['an unclosed selection set', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ categories { id }')],
  ['a stray closing brace', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ categories { id } } }')],
  ['an empty selection set', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ }')],
  ['an argument without a value', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ customer(id: ) { id } }')],
  ['a variable without a name', 400, 'GRAPHQL_PARSE_FAILED', () => query('query($: ID) { categories { id } }')],
  ['a fragment named on', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ categories { ...F } } fragment on on Category { id }')],
  ['an unterminated string', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ customer(id: "1) { id } }')],
  ['an unterminated block string', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ customer(id: """1) { id } }')],
  ['an invalid unicode escape', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ customer(id: "\\uZZZZ") { id } }')],
  ['a lone surrogate in the query text', 400, 'GRAPHQL_PARSE_FAILED', () => post('{"query": "{ customer(id: \\"\\ud800\\") { id } }"}')],
  ['a NUL character', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ categories { id \u0000 } }')],
  ['an invalid number', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ products(first: 1.) { id } }')],
  ['a hexadecimal number', 400, 'GRAPHQL_PARSE_FAILED', () => query('{ products(first: 0x10) { id } }')],
  ['a document over 15,000 tokens', 400, 'GRAPHQL_PARSE_FAILED', () => query(`{ categories { ${repeat(16_000, () => 'id')} } }`)],
  ['braces nested 10,000 deep', 400, 'GRAPHQL_PARSE_FAILED', () => query(`${'{ a '.repeat(10_000)}${'}'.repeat(10_000)}`)],
  ['lists in an argument nested 10,000 deep', 400, 'GRAPHQL_PARSE_FAILED', () => query(`{ customer(id: ${'['.repeat(10_000)}${']'.repeat(10_000)}) { id } }`)],
  ['objects in an argument nested 10,000 deep', 400, 'GRAPHQL_PARSE_FAILED', () => query(`{ customer(id: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}) { id } }`)],

  // Validation.
  ['an unknown field', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { nmae } }')],
  ['an unknown root field', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ customerz { id } }')],
  ['an unknown type in a fragment', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { ... on Categry { id } } }')],
  ['an unknown variable type', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('query($r: Regoin) { customers(region: $r) { id } }')],
  ['an unknown fragment', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { ...Nope } }')],
  ['a fragment cycle', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { ...A } } fragment A on Category { ...B } fragment B on Category { ...A }')],
  ['a fragment spreading itself', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { ...A } } fragment A on Category { id ...A }')],
  ['an undefined variable', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ customer(id: $id) { id } }')],
  ['an argument of the wrong literal type', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ products(first: "ten") { id } }')],
  ['an Int literal over 32 bits', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ products(first: 99999999999999999999) { id } }')],
  ['an unknown directive', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories @nope { id } }')],
  ['a leaf field with a selection', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { id { x } } }')],
  ['an object field without a selection', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories }')],
  ['conflicting fields under one response key', 400, 'GRAPHQL_VALIDATION_FAILED', () => query('{ categories { id: name id } }')],

  // Request limits.
  ['fragment doubling ×30', 400, 'MAX_HEIGHT_LIMIT', () => query(fragmentBomb)],
  ['depth 121', 400, 'MAX_DEPTH_LIMIT', () => query(deepQuery)],
  ['10,000 aliases (over 15,000 tokens)', 400, 'GRAPHQL_PARSE_FAILED', () => query(`{ ${repeat(10_000, (i) => `a${i}: __typename`)} }`)],
  ['100 aliases', 400, 'MAX_ALIASES_LIMIT', () => query(`{ categories { ${repeat(100, (i) => `a${i}: id`)} } }`)],
  ['25 root fields', 400, 'MAX_ROOT_FIELDS_LIMIT', () => query(`{ ${repeat(25, (i) => `c${i}: categories { id }`)} }`)],
  ['1,400 copies of one field', 400, 'MAX_FIELD_REPETITIONS_LIMIT', () => query(`{ categories { ${repeat(1_400, () => 'id')} } }`)],

  // HTTP.
  ['a mutation over GET', 405, 'BAD_REQUEST', () => get({ query: 'mutation { deleteEverything }' })],
  ['a GET without a CSRF preflight header', 400, 'BAD_REQUEST', () => get({ query: '{ categories { id } }' }, {})],
  ['GET without a query', 400, 'BAD_REQUEST', () => get({})],
  ['GET with variables that are not JSON', 400, 'BAD_REQUEST', () => get({ query: 'query($id: ID!) { customer(id: $id) { id } }', variables: '{id:' })],
  ['GET with extensions that are not JSON', 400, 'BAD_REQUEST', () => get({ query: '{ categories { id } }', extensions: '{persistedQuery' })],
  ['PUT', 405, 'METHOD_NOT_ALLOWED', () => ({ method: 'PUT', body: { query: '{ categories { id } }' } })],
  ['DELETE', 405, 'METHOD_NOT_ALLOWED', () => ({ method: 'DELETE' })],
  ['PATCH', 405, 'METHOD_NOT_ALLOWED', () => ({ method: 'PATCH', body: '{}' })],
  ['OPTIONS without a CORS preflight', 405, 'METHOD_NOT_ALLOWED', () => ({ method: 'OPTIONS' })],
  ['a CORS preflight from an origin not allowed', 403, 'CORS_ORIGIN_NOT_ALLOWED', () => ({ method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })],
  ['headers over 16 KB', 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE', () => ({ method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: { 'x-padding': 'a'.repeat(20_000) } })],
  ['a GET URL over 16 KB', 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE', () => get({ query: `{ categories { ${repeat(8_000, () => 'id')} } }` })],
  ['a malformed request line', 400, 'BAD_REQUEST', () => ({ wire: 'HELLO THERE\r\n\r\n' })],
  ['a Content-Length that is not a number', 400, 'BAD_REQUEST', () => ({ wire: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' })],
  ['Content-Length and Transfer-Encoding together', 400, 'BAD_REQUEST', () => ({ wire: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' })],
  ['an unknown path', 404, 'NOT_FOUND', () => ({ method: 'GET', path: '/admin' })],
  ['a path traversal', 404, 'NOT_FOUND', () => ({ method: 'GET', path: '/graphql/../../etc/passwd' })],
  ['POST to /', 404, 'NOT_FOUND', () => ({ path: '/', body: { query: '{ categories { id } }' } })],
  ['an Accept header GraphQL cannot answer', 406, 'BAD_REQUEST', () => ({ body: { query: '{ categories { id } }' }, headers: { accept: 'application/xml' } })],

  // Authentication.
  ['a token that is not a JWT', 401, 'MALFORMED_TOKEN', () => ({ body: { query: '{ categories { id } }' }, headers: { authorization: 'Bearer not.a.jwt' } })],
  ['an expired token', 401, 'TOKEN_EXPIRED', async () => ({ body: { query: '{ categories { id } }' }, headers: bearer(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret)) })],
  ['a token with alg: none', 401, 'UNSUPPORTED_TOKEN_ALGORITHM', () => ({ body: { query: '{ categories { id } }' }, headers: bearer(new UnsecuredJWT({ scope: 'customers:pii:read' }).setExpirationTime('5m').encode()) })],
  ['a token signed with another secret', 401, 'INVALID_TOKEN_SIGNATURE', async () => ({ body: { query: '{ categories { id } }' }, headers: bearer(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('y'.repeat(40)))) })],
  ['a Basic Authorization header', 401, 'INVALID_AUTHORIZATION_HEADER', () => ({ body: { query: '{ categories { id } }' }, headers: { authorization: 'Basic dXNlcjpwYXNz' } })],
  ['a token with bytes that are not ASCII', 400, 'BAD_REQUEST', () => ({ wire: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer \u00ff\u00fe\u0001\r\nContent-Length: 2\r\n\r\n{}' })],
  ['an empty Bearer', 401, 'INVALID_AUTHORIZATION_HEADER', () => ({ body: { query: '{ categories { id } }' }, headers: { authorization: 'Bearer ' } })],

  // Schema details and persisted queries.
  ['introspection when it is off', 400, 'INTROSPECTION_DISABLED', () => query('{ __schema { types { name } } }')],
  ['introspection under an alias', 400, 'INTROSPECTION_DISABLED', () => query('{ s: __schema { queryType { name } } }')],
  ['introspection through a fragment', 400, 'INTROSPECTION_DISABLED', () => query('{ ...I } fragment I on Query { __type(name: "Customer") { fields { name } } }')],
  ['a persisted query of version 2', 400, 'BAD_REQUEST', () => post({ extensions: { persistedQuery: { version: 2, sha256Hash: MANIFEST_ID } } })],
  ['a persisted query without a hash', 400, 'BAD_REQUEST', () => post({ extensions: { persistedQuery: { version: 1 } } })],
  ['a persisted query that is a string', 400, 'BAD_REQUEST', () => post({ extensions: { persistedQuery: MANIFEST_ID } })],
  ['an unknown persisted query id', 404, 'PERSISTED_QUERY_NOT_IN_LIST', () => post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } })],
  ['a persisted query id with another body', 400, 'CANNOT_SEND_PQ_ID_AND_BODY', () => query('{ products { id } }', { extensions: { persistedQuery: { version: 1, sha256Hash: MANIFEST_ID } } })],
  ['an unknown persisted query id over GET', 404, 'PERSISTED_QUERY_NOT_IN_LIST', () => get({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'nope' } }) })],
];

/** Requests that look hostile but are valid: each is answered 200 with data and no error. */
const chain = repeat(1_500, (i) => `fragment F${i} on Category { ${i === 1_499 ? 'id' : `...F${i + 1}`} }`);
const VALID: [name: string, request: () => RawRequest][] = [
  ['20,000 variables the operation does not declare', () => query('{ categories { id } }', { variables: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`v${i}`, i])) })],
  ['a lone surrogate in a variable', () => post('{"query": "query($s: String) { product(sku: $s) { id } }", "variables": {"s": "\\ud800"}}')],
  ['a chain of 1,500 fragments', () => query(`{ categories { ...F0 } } ${chain}`)],
  ['__proto__ and constructor keys in extensions', () => post('{"query": "{ categories { id } }", "extensions": {"__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}}')],
  ['a byte-order mark before the JSON', () => post(`\ufeff${JSON.stringify({ query: '{ categories { id } }' })}`)],
  ['a comment of 250 KB', () => query(`{ categories { id } } # ${'x'.repeat(250_000)}`)],
  ['only __typename, with introspection off', () => query('{ __typename }')],
  ['variables: null', () => query('{ categories { id } }', { variables: null })],
  ['a persisted query id from the manifest', () => post({ extensions: { persistedQuery: { version: 1, sha256Hash: MANIFEST_ID } } })],
  ['a persisted query id over GET', () => get({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: MANIFEST_ID } }) })],
];

describe('hostile requests', () => {
  it(`the corpus has at least 50 requests (${CORPUS.length})`, () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CORPUS.map(([name]) => name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS)('%s → %i %s', async (name, status, code, make) => {
    const response = await send(mesh.gateway.url, await make());
    let body: { errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = JSON.parse(response.text);
    } catch {
      throw new Error(`${name}: HTTP ${response.status}, not JSON: ${response.text.slice(0, 200)}`);
    }
    expect({ status: response.status, code: body.errors?.[0]?.extensions?.code }, `${name}: ${response.text.slice(0, 300)}`).toEqual({ status, code });
    // Nothing of the schema leaks: no suggestions, no stack traces.
    expect(response.text).not.toMatch(/Did you mean/);
    expect(response.text).not.toMatch(/stacktrace|    at /);
  });

  it.each(VALID)('answers 200: %s', async (name, make) => {
    const response = await send(mesh.gateway.url, make());
    expect(response.status, `${name}: ${response.text.slice(0, 300)}`).toBe(200);
    const body = JSON.parse(response.text);
    expect(body.errors).toBeUndefined();
    expect(body.data).toBeTruthy();
  });

  it('still answers /health and a normal query after the corpus', async () => {
    const health = await fetch(`${mesh.gateway.url}/health`);
    expect(health.status).toBe(200);
    const result = await mesh.query('{ categories { id name } }', undefined, await fullAccess());
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.categories.length).toBeGreaterThan(0);
  });
});
