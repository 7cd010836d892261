import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JwtAuthenticator } from '../../gateway/authentication/jwt-authenticator.js';
import { visibleRegion } from '../../subgraphs/kit/row-level.js';
import { RowRules } from '../../gateway/governance/row-rules.js';
import { token, TEST_SECRET } from '../helpers/mesh.js';
import { startAuthzFixture, type AuthzFixture } from './fixture.js';

/**
 * Security review: ways protected data could leave the gateway, or requests be wrongly refused,
 * each proven against the real gateway (or the unit that decides it).
 */
let fixture: AuthzFixture;
let anonymous: Record<string, string>;
let insufficient: Record<string, string>;
let sufficient: Record<string, string>;

beforeAll(async () => {
  fixture = await startAuthzFixture();
  anonymous = {};
  insufficient = { authorization: `Bearer ${await token(['unrelated:scope'], { department: 'sales' })}` };
  const all = ['user:read:email', 'pii:read', 'ssn:read', 'admin', 'karma:read', 'rating:read', 'secret:read', 'ops:read', 'user:write'];
  sufficient = { authorization: `Bearer ${await token(all, { department: 'hr' })}` };
});
afterAll(() => fixture?.close());

const paths = (body: { errors?: { path?: unknown }[] }) => (body.errors ?? []).map((e) => JSON.stringify(e.path)).sort();

describe('@skip/@include', () => {
  // A variable left out of the request takes its definition's default: @include(if: $e) with
  // `$e: Boolean = false` excludes the field, so it must be neither checked nor reported.
  it('a condition variable absent from the request uses its default value (filter)', async () => {
    const query = 'query ($e: Boolean = false) { user(id: "1") { name email @include(if: $e) } }';
    const { status, body } = await fixture.query('filter', query, undefined, insufficient);
    expect(status).toBe(200);
    expect(body).toEqual({ data: { user: { name: 'Ada' } } });
  });

  it('a condition variable absent from the request uses its default value (reject: not refused)', async () => {
    const query = 'query ($s: Boolean = true) { user(id: "1") { name email @skip(if: $s) } }';
    const { status, body } = await fixture.query('reject', query, {}, anonymous);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ data: { user: { name: 'Ada' } } });
  });

  it('a default applies to a condition on a named fragment spread too', async () => {
    const query = 'query ($e: Boolean = false) { user(id: "1") { name ...F @include(if: $e) } } fragment F on User { email ssn }';
    const { status, body } = await fixture.query('reject', query, undefined, anonymous);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ data: { user: { name: 'Ada' } } });
  });

  it('an explicit value overrides the default (still filtered)', async () => {
    const query = 'query ($e: Boolean = false) { user(id: "1") { name email @include(if: $e) } }';
    fixture.takeReceived();
    const { body } = await fixture.query('filter', query, { e: true }, insufficient);
    expect(body.data).toEqual({ user: { name: 'Ada', email: null } });
    expect(paths(body)).toEqual([JSON.stringify(['user', 'email'])]);
    expect(fixture.takeReceived().join('\n')).not.toMatch(/\bemail\b/);
  });

  it('the decision cache keeps callers with different effective conditions apart', async () => {
    const query = 'query ($e: Boolean = false) { user(id: "1") { name email @include(if: $e) } }';
    const a = await fixture.query('filter', query, undefined, insufficient);
    const b = await fixture.query('filter', query, { e: true }, insufficient);
    const c = await fixture.query('filter', query, { e: true }, sufficient);
    const d = await fixture.query('filter', query, undefined, insufficient);
    expect(a.body).toEqual({ data: { user: { name: 'Ada' } } });
    expect(b.body.data).toEqual({ user: { name: 'Ada', email: null } });
    expect(c.body).toEqual({ data: { user: { name: 'Ada', email: 'ada@example.com' } } });
    expect(d.body).toEqual(a.body);
  });
});

describe('fragments and type conditions', () => {
  it('one named fragment spread under different parents is filtered at each use', async () => {
    const query = `query { user(id: "1") { ...F } search { ...F ... on Document { title } } }
      fragment F on User { name email }`;
    fixture.takeReceived();
    const { body } = await fixture.query('filter', query, undefined, anonymous);
    expect(body.data).toEqual({ user: { name: 'Ada', email: null }, search: [{ name: 'Ada', email: null }, { name: 'Bob', email: null }, {}] });
    expect(paths(body)).toEqual([['search', '@'], ['search', '@', 'email'], ['user', 'email']].map((p) => JSON.stringify(p)).sort());
    const received = fixture.takeReceived().join('\n');
    expect(received).not.toMatch(/\bemail\b/);
    expect(received).not.toMatch(/\btitle\b/);
  });

  it('a protected field reached through an interface fragment inside a union', async () => {
    const query = '{ search { ... on Node { ... on User { name email } } } }';
    fixture.takeReceived();
    const { body } = await fixture.query('filter', query, undefined, insufficient);
    expect(body.data).toEqual({ search: [{ name: 'Ada', email: null }, { name: 'Bob', email: null }, {}] });
    expect(fixture.takeReceived().join('\n')).not.toMatch(/\bemail\b/);
  });

  // The filter adds __typename to tell which objects a removed field under a type condition
  // belonged to, and removes it afterwards: never the __typename the client asked for itself.
  it("the client's own __typename inside a fragment survives the filter's bookkeeping", async () => {
    const query = '{ items { ... on Book { __typename id } ... on Secret { id label } } }';
    const { body } = await fixture.query('filter', query, undefined, anonymous);
    expect(body.data).toEqual({ items: [{ __typename: 'Book', id: 'b1' }, { id: 's1', label: null }] });
    const viaInterface = await fixture.query('filter', '{ items { ... on Item { __typename } ... on Secret { label } } }', undefined, anonymous);
    expect(viaInterface.body.data).toEqual({ items: [{ __typename: 'Book' }, { __typename: 'Secret', label: null }] });
  });

  it('a skipped __typename does not stand in for the one the filter needs', async () => {
    const query = '{ items { id __typename @skip(if: true) ... on Secret { label } } }';
    const { body } = await fixture.query('filter', query, undefined, anonymous);
    expect(body.data).toEqual({ items: [{ id: 'b1' }, { id: 's1', label: null }] });
    expect(paths(body)).toEqual([JSON.stringify(['items', '@', 'label'])]);
  });

  it('the same field with and without an alias, one under a public type condition', async () => {
    const query = '{ items { label ... on Book { l: label } } }';
    const { body } = await fixture.query('filter', query, undefined, anonymous);
    expect(body.data).toEqual({ items: [{ label: null, l: 'A public book' }, { label: null }] });
    expect(paths(body)).toEqual([JSON.stringify(['items', '@', 'label'])]);
  });
});

describe('null propagation', () => {
  it('a removed non-null field under a type condition in a list of non-null items nulls up to data', async () => {
    const query = '{ publicInfo search { ... on User { name ssn } } }';
    fixture.takeReceived();
    const { body } = await fixture.query('filter', query, undefined, insufficient);
    expect(body.data).toBeNull();
    expect(paths(body)).toEqual([JSON.stringify(['search', '@', 'ssn'])]);
    expect(fixture.takeReceived().join('\n')).not.toMatch(/\bssn\b/);
  });
});

describe('HTTP edge', () => {
  // Concurrent identical requests share one execution, but never a mutation: a JSON string
  // escape must not hide the keyword.
  it('identical concurrent mutations spelled with a JSON escape both execute', async () => {
    const body = '{"query":"\\u006dutation { ping }"}';
    fixture.takeReceived();
    const send = () =>
      fetch(fixture.gateways.filter.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...sufficient }, body }).then((r) => r.json());
    const results = await Promise.all([send(), send(), send(), send()]);
    for (const r of results) expect(r).toEqual({ data: { ping: 'pong' } });
    expect(fixture.takeReceived().filter((q) => /\bping\b/.test(q))).toHaveLength(4);
  });

  it('a JSON array (batched) body is refused, not executed unfiltered', async () => {
    const response = await fetch(fixture.gateways.filter.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ user(id: "1") { email } }' }]),
    });
    const text = await response.text();
    expect(text).not.toContain('ada@example.com');
    expect(response.status).toBeGreaterThanOrEqual(400);
  });

  it('a query sent as GET is filtered the same way', async () => {
    const url = new URL(fixture.gateways.filter.graphqlUrl);
    url.searchParams.set('query', '{ user(id: "1") { name email } }');
    const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    const body = await response.json();
    expect(body.data).toEqual({ user: { name: 'Ada', email: null } });
  });

  it('reject mode: a partially unauthorized mutation has no side effect', async () => {
    const before = fixture.state.users[1]!.email;
    fixture.takeReceived();
    const { status } = await fixture.query('reject', 'mutation { ping updateEmail(id: "2", email: "evil@example.com") { name } }', undefined, insufficient);
    expect(status).toBe(403);
    expect(fixture.takeReceived()).toEqual([]);
    expect(fixture.state.users[1]!.email).toBe(before);
  });
});

describe('tokens', () => {
  it('a verified token is not served from the cache after it expires', async () => {
    const authenticator = new JwtAuthenticator({ secret: TEST_SECRET });
    const t = await token(['x'], {}, 'short');
    // mint-token sets exp one hour ahead: jump past it.
    expect((await authenticator.authenticate(`Bearer ${t}`))?.subject).toBe('short');
    vi.useFakeTimers({ now: Date.now() + 2 * 3600_000, toFake: ['Date'] });
    try {
      await expect(authenticator.authenticate(`Bearer ${t}`)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a JWKS-configured gateway refuses an HS256 token signed with the public key as secret', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const dir = mkdtempSync(join(tmpdir(), 'review-jwks-'));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    const authenticator = new JwtAuthenticator({ jwksFile: join(dir, 'jwks.json') });
    const forged = await new SignJWT({ scope: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await expect(authenticator.authenticate(`Bearer ${forged}`)).rejects.toMatchObject({ code: 'UNSUPPORTED_TOKEN_ALGORITHM' });
  });
});

describe('row-level rule', () => {
  // A `region` claim restricts rows to that region. A claim that is present but not a usable
  // region (a multi-valued array, a number, an empty string) must not lift the restriction.
  it('a present but malformed region claim fails closed', () => {
    // The gateway evaluates the governance file's rule; subgraphs apply what it forwards.
    const rules = new RowRules('policies.yaml', { 'customer-region': { entity: 'Customer', attribute: 'region', claim: 'region' } });
    const identity = (claims: Record<string, unknown>) => ({ authenticated: true, subject: 's', scopes: [], claims: {}, rows: rules.scopeFor(claims, '') });
    expect(visibleRegion(identity({ region: 'EU' }))).toBe('EU');
    expect(visibleRegion(identity({}))).toBeNull();
    for (const bad of [['EU'], 42, '', { name: 'EU' }, true, null]) {
      const region = visibleRegion(identity({ region: bad }));
      expect(region, JSON.stringify(bad)).not.toBeNull();
      expect(region, JSON.stringify(bad)).not.toBe('EU');
    }
  });
});
