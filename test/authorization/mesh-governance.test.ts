import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../gateway/config/config-error.js';
import { startGateway } from '../../gateway/server/gateway-server.js';
import { IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import { fullAccess, startMesh, testConfig, token, type TestMesh } from '../helpers/mesh.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The governance model applied to the real mesh: PII, order history, finance, consent, regions. */
let mesh: TestMesh;
const asked: { subgraph: string; query: string }[] = [];
const bearer = async (scopes: string[], claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await token(scopes, claims)}` });

beforeAll(async () => {
  mesh = await startMesh({}, { onSubgraphRequest: (subgraph, body) => asked.push({ subgraph, query: body.query ?? '' }) });
});
afterAll(() => mesh?.close());

describe('governance of the mesh', () => {
  it('hides Customer.phone without customers:pii:read, and the customers subgraph is never asked for it', async () => {
    asked.length = 0;
    const { body } = await mesh.query('{ customer(id: "12") { region phone } }');
    expect(body.data.customer.phone).toBeNull();
    expect(body.data.customer.region).toBeTruthy();
    expect(body.errors).toEqual([
      { message: 'Unauthorized field or type', path: ['customer', 'phone'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } },
    ]);
    const toCustomers = asked.filter((a) => a.subgraph === 'customers').map((a) => a.query);
    expect(toCustomers.length).toBeGreaterThan(0);
    for (const q of toCustomers) expect(q).not.toContain('phone');
  });

  it('nulls the customer when the non-null Customer.fullName is hidden (null propagation)', async () => {
    asked.length = 0;
    const { body } = await mesh.query('{ customer(id: "12") { region fullName } }');
    expect(body.data).toEqual({ customer: null });
    expect(body.errors![0].path).toEqual(['customer', 'fullName']);
    for (const a of asked) expect(a.query).not.toContain('fullName');
  });

  it('shows Customer.email with customers:pii:read', async () => {
    const { body } = await mesh.query('{ customer(id: "12") { email } }', undefined, await bearer(['customers:pii:read']));
    const row = mesh.database('customers').prepare('SELECT email FROM customers WHERE id = 12').get() as { email: string };
    expect(body).toEqual({ data: { customer: { email: row.email } }, extensions: { dataProducts: [expect.objectContaining({ id: 'customer-profiles' })] } });
  });

  it('needs a token for order history, but no scope', async () => {
    const anonymous = await mesh.query('{ customer(id: "12") { orders(first: 1) { id } } }');
    expect(anonymous.body.data.customer).toBeNull();
    expect(anonymous.body.errors![0].path).toEqual(['customer', 'orders']);
    const signedIn = await mesh.query('{ customer(id: "12") { orders(first: 1) { id } } }', undefined, await bearer([]));
    expect(signedIn.body.errors).toBeUndefined();
    expect(signedIn.body.data.customer.orders).toHaveLength(1);
  });

  it('reserves finance figures for the finance_analyst policy (department claim)', async () => {
    const q = '{ order(id: "100") { total invoice { number } } }';
    const sales = await mesh.query(q, undefined, await bearer([], { department: 'sales' }));
    expect(sales.body.data.order.invoice).toBeNull();
    expect(sales.body.errors![0]).toMatchObject({ path: ['order', 'invoice'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
    expect(asked.some((a) => a.subgraph === 'finance' && a.query.includes('invoice'))).toBe(false);
    const finance = await mesh.query(q, undefined, await bearer([], { department: 'finance' }));
    expect(finance.body.errors).toBeUndefined();
    expect(finance.body.data.order.invoice.number).toMatch(/^INV-/);
  });

  it('lets campaign responses through only for the marketing purpose, declared in X-Data-Purpose', async () => {
    const q = '{ customer(id: "1") { campaignResponses(first: 1) { kind } } }';
    const marketer = await bearer([], { department: 'marketing' });
    const without = await mesh.query(q, undefined, marketer);
    expect(without.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    const withPurpose = await mesh.query(q, undefined, { ...marketer, 'x-data-purpose': 'marketing' });
    expect(withPurpose.body.errors).toBeUndefined();
    expect(Array.isArray(withPurpose.body.data.customer.campaignResponses)).toBe(true);
  });

  it('never lets one caller see what the cache decided for another', async () => {
    const q = '{ customer(id: "7") { email } }';
    const full = await fullAccess();
    for (let i = 0; i < 3; i++) {
      expect((await mesh.query(q)).body.data.customer).toBeNull();
      expect((await mesh.query(q, undefined, full)).body.data.customer.email).toContain('@');
    }
  });

  it('leaves introspection alone', async () => {
    const { body } = await mesh.query('{ __type(name: "Customer") { fields { name } } }');
    expect(body.errors).toBeUndefined();
    expect(body.data.__type.fields.map((f: { name: string }) => f.name)).toContain('email');
  });

  it('refuses to start when the supergraph names a policy the governance file does not define', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policies-'));
    const file = join(dir, 'policies.yaml');
    writeFileSync(file, 'policies:\n  executive:\n    expression: "true"\n');
    const error = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ policiesFile: file }) }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/policies\.(finance_analyst|marketing_purpose)/);
  });
});

describe('row-level rule: a region claim sees only its region', () => {
  it('lists only the customers of the token\'s region', async () => {
    const { body } = await mesh.query('{ customers(first: 50) { id region } }', undefined, await bearer([], { region: 'EUROPE' }));
    expect(body.data.customers.length).toBeGreaterThan(0);
    expect(new Set(body.data.customers.map((c: { region: string }) => c.region))).toEqual(new Set(['EUROPE']));
  });

  it('hides customers and orders of other regions', async () => {
    const db = mesh.database('sales');
    const order = db.prepare("SELECT id, customer_id FROM orders WHERE region = 'ASIA_PACIFIC' LIMIT 1").get() as { id: number; customer_id: number };
    const europe = await bearer([], { region: 'EUROPE' });
    const { body } = await mesh.query(`{ order(id: "${order.id}") { id } customer(id: "${order.customer_id}") { region } }`, undefined, europe);
    expect(body.data).toEqual({ order: null, customer: null });
    const asia = await mesh.query(`{ order(id: "${order.id}") { id } }`, undefined, await bearer([], { region: 'ASIA_PACIFIC' }));
    expect(asia.body.data.order).toEqual({ id: String(order.id) });
  });
});

describe('subgraphs cannot be bypassed', () => {
  const query = JSON.stringify({ query: '{ customers(first: 3) { email } }' });
  const direct = (headers: Record<string, string>) =>
    fetch(mesh.subgraphs.customers.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: query });

  it('answers 401 and no data to a client calling a subgraph directly', async () => {
    const response = await direct({});
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED_SUBGRAPH_REQUEST');
    expect(JSON.stringify(body)).not.toContain('@example.com');
  });

  it('refuses an identity signed with another key, or expired, or a client token passed through', async () => {
    const forged = await new SignJWT({ auth: true, scope: 'customers:pii:read', claims: {} })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('data-mesh-gateway').setAudience('data-mesh-subgraphs').setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-key-that-is-not-the-mesh-signing-key-123'));
    const expired = await new SignJWT({ auth: true, scope: '', claims: {} })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('data-mesh-gateway').setAudience('data-mesh-subgraphs').setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode((await import('../helpers/mesh.js')).TEST_SIGNING_KEY));
    const clientToken = await token(['customers:pii:read']);
    for (const header of [forged, expired, clientToken]) {
      const response = await direct({ [IDENTITY_HEADER]: header });
      expect(response.status).toBe(401);
      expect(JSON.stringify(await response.json())).not.toContain('@example.com');
    }
  });
});
