import { buildSchema } from 'graphql';
import { SignJWT } from 'jose';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../gateway/authentication/jwt-authenticator.js';
import { mintToken } from '../gateway/authentication/mint-token.js';
import { RequestIdentities } from '../gateway/authentication/request-identity.js';
import { defaultSettings } from '../gateway/config/gateway-settings.js';
import { RequestGuard } from '../gateway/limits/request-guard.js';
import { OperationCache } from '../gateway/operation/operation-cache.js';
import { InflightDedup } from '../gateway/server/inflight-dedup.js';
import { sharingKey } from '../gateway/server/sharing-key.js';
import type { GraphQLHttpResult } from '../subgraphs/mesh/http.js';
import { IdentitySigner } from '../subgraphs/mesh/identity.js';
import { createLogger } from '../subgraphs/mesh/logger.js';

/**
 * Inbound sharing of equivalent in-flight requests, and the governed limits on who may share. The
 * key is built as the gateway's edge builds it: the real request guard (which parses each query
 * text once), the real JWT verification and identity derivation, then sharingKey.
 */
const SECRET = 'inflight-dedup-test-secret-0123456789';
const schema = buildSchema(`
  type Query { products(first: Int, category: String): [Product!]! customers: [Customer!]! }
  type Mutation { ping: Boolean }
  type Product { id: ID! name: String! }
  type Customer { id: ID! email: String }
`);
const operations = new OperationCache(schema);
const guard = new RequestGuard(defaultSettings().limits, () => operations, createLogger('test'));
const identities = new RequestIdentities(new JwtAuthenticator({ secret: SECRET }), new IdentitySigner(SECRET), []);

const req = (headers: Record<string, string> = {}, method = 'POST') => ({ method, headers, url: '/graphql' }) as unknown as IncomingMessage;

/** The key the gateway's edge gives this POST body, sent with these headers. */
async function keyOf(headers: Record<string, string>, body: unknown): Promise<string | null> {
  const request = req(headers);
  const text = JSON.stringify(body);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const facts = guard.check(parsed.query, parsed.operationName);
  const identity = await identities.of(request);
  return sharingKey(request, identity.sharingKey, parsed, text, facts);
}

const token = (subject: string, scopes: string[], claims: Record<string, unknown> = {}) => mintToken({ secret: SECRET, subject, scopes, claims });

function controllable() {
  let calls = 0;
  const releases: (() => void)[] = [];
  const execute = () => {
    calls++;
    return new Promise<GraphQLHttpResult>((resolve) => releases.push(() => resolve({ status: 200, headers: {}, body: `{"n":${calls}}` })));
  };
  return { execute, calls: () => calls, release: () => releases.splice(0).forEach((r) => r()) };
}

/** How many executions two concurrent requests cost: 1 when they share, 2 when not. */
async function executions(a: [Record<string, string>, unknown], b: [Record<string, string>, unknown]): Promise<number> {
  const dedup = new InflightDedup();
  const c = controllable();
  const keys = [await keyOf(...a), await keyOf(...b)];
  const all = keys.map((key) => dedup.run(key, c.execute));
  c.release();
  await Promise.all(all);
  return c.calls();
}

describe('inbound in-flight de-duplication', () => {
  it('runs identical concurrent queries with the same credentials once', async () => {
    const dedup = new InflightDedup();
    const c = controllable();
    const auth = { authorization: `Bearer ${await token('a', ['products:read'])}` };
    const body = { query: '{ products { name } }' };
    const keys = await Promise.all([1, 2, 3].map(() => keyOf(auth, body)));
    const all = keys.map((key) => dedup.run(key, c.execute));
    c.release();
    const results = await Promise.all(all);
    expect(c.calls()).toBe(1);
    expect(new Set(results.map((r) => r.body))).toEqual(new Set(['{"n":1}']));
  });

  it('shares between requests that differ only in whitespace, commas, comments, variable key order, unused extensions or other headers', async () => {
    const auth = { authorization: `Bearer ${await token('a', ['products:read'])}` };
    const query = 'query Products($first: Int, $category: String) { products(first: $first, category: $category) { id name } }';
    const spaced = '# the catalog page\nquery Products( $first :Int , $category:String ) {\n  products(first: $first, category: $category) {\n    id,\n    name\n  }\n}\n';
    const a = { query, operationName: 'Products', variables: { first: 3, category: 'books' }, extensions: { clientLibrary: { name: 'a' }, requestId: 1 } };
    const b = { extensions: { requestId: 2 }, variables: { category: 'books', first: 3 }, operationName: 'Products', query: spaced };
    expect(await executions([auth, a], [{ ...auth, 'user-agent': 'other', 'x-request-id': '2' }, b])).toBe(1);
    // An anonymous query without variables: the same whether `variables` is absent, null or sent.
    expect(await executions([{}, { query: '{ products { name } }' }], [{}, { query: '{products{name}}', variables: null, extensions: { trace: 'x' } }])).toBe(1);
  });

  it('shares between two tokens with the very same verified claims (the token text itself does not count)', async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const sign = (kid: string) =>
      new SignJWT({ scope: 'products:read' }).setProtectedHeader({ alg: 'HS256', kid }).setSubject('a').setIssuedAt(now).setExpirationTime(now + 3600).sign(key);
    const [one, two] = [await sign('k1'), await sign('k2')];
    expect(one).not.toBe(two);
    const body = { query: '{ products { name } }' };
    expect(await executions([{ authorization: `Bearer ${one}` }, body], [{ authorization: `Bearer ${two}` }, body])).toBe(1);
  });

  it.each([
    ['another subject', async () => ({ authorization: `Bearer ${await token('b', ['products:read'])}` })],
    ['other scopes', async () => ({ authorization: `Bearer ${await token('a', ['products:read', 'customers:pii:read'])}` })],
    ['another claim (row rules and policies read claims)', async () => ({ authorization: `Bearer ${await token('a', ['products:read'], { department: 'finance' })}` })],
    ['no credentials', async () => ({})],
    ['another declared purpose', async () => ({ authorization: `Bearer ${await token('a', ['products:read'])}`, 'x-data-purpose': 'marketing' })],
    ['another Accept (incremental delivery)', async () => ({ authorization: `Bearer ${await token('a', ['products:read'])}`, accept: 'multipart/mixed' })],
    ['cost in extensions asked for', async () => ({ authorization: `Bearer ${await token('a', ['products:read'])}`, 'x-cost-extensions': 'true' })],
  ])('never shares between requests with %s', async (_name, other) => {
    const body = { query: '{ customers { email } }' };
    const auth = { authorization: `Bearer ${await token('a', ['products:read'])}` };
    expect(await executions([auth, body], [await other(), body])).toBe(2);
  });

  it.each([
    ['other variables', { variables: { first: 3 } }, { variables: { first: 4 } }],
    ['a variable sent or not', { variables: { first: 3 } }, { variables: { first: 3, category: null } }],
    ['another operation of the document', { operationName: 'A' }, { operationName: 'B' }],
    ['a malformed operation name (a 400 of its own)', { operationName: 'A' }, { operationName: ['A'] }],
    ['another document (an alias)', { query: '{ products { name } }' }, { query: '{ products { title: name } }' }],
    ['an APQ hash (its lookup can change the answer)', {}, { extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }],
  ])('never shares between requests with %s', async (_name, a, b) => {
    const auth = { authorization: `Bearer ${await token('a', ['products:read'])}` };
    const query = 'query A($first: Int, $category: String) { products(first: $first, category: $category) { name } } query B { products { id } }';
    expect(await executions([auth, { query, operationName: 'A', ...a }], [auth, { query, operationName: 'A', ...b }])).toBe(2);
  });

  it('never lets a malformed operation name or extensions (answered 400) share with an absent one', async () => {
    const body = { query: 'query Only { products { id } }' };
    expect(await executions([{}, body], [{}, { ...body, operationName: 5 }])).toBe(2);
    expect(await keyOf({}, { ...body, operationName: 5 })).toBeNull();
    expect(await executions([{}, body], [{}, { ...body, extensions: 'x' }])).toBe(2);
  });

  it('never shares mutations (however spelt), and keeps nothing once answered', async () => {
    const dedup = new InflightDedup();
    const c = controllable();
    for (const body of [{ query: 'mutation { ping }' }, { query: '{ products { id } } mutation M { ping }', operationName: 'M' }, { query: 'mutation { ping }' }]) {
      expect(await keyOf({}, body)).toBeNull();
    }
    // Unparsable text falls back to the raw body, where a `\u` escape may hide a keyword: alone too.
    expect(sharingKey(req(), '', undefined, '{"query":"\\u006dutation { ping }"}', undefined)).toBeNull();
    const mutation = await keyOf({}, { query: 'mutation { ping }' });
    const all = [dedup.run(mutation, c.execute), dedup.run(mutation, c.execute)];
    c.release();
    await Promise.all(all);
    expect(c.calls()).toBe(2);
    const query = await keyOf({}, { query: '{ products { id } }' });
    const first = dedup.run(query, c.execute);
    c.release();
    await first;
    const second = dedup.run(query, c.execute);
    c.release();
    await second;
    expect(c.calls()).toBe(4);
  });

  it('shares GET requests and batches only when byte-identical, as before', async () => {
    const get = req({}, 'GET');
    expect(sharingKey(get, '', undefined, '?query=%7Ba%7D', undefined)).toBe(sharingKey(get, '', undefined, '?query=%7Ba%7D', undefined));
    expect(sharingKey(get, '', undefined, '?query=%7Ba%7D', undefined)).not.toBe(sharingKey(get, '', undefined, '?query=%7B%20a%7D', undefined));
    expect(sharingKey(req(), '', [{ query: '{ a }' }], '[{"query":"{ a }"}]', undefined)).toBeNull();
  });
});
