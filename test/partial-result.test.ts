import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullAccess, startMesh, type TestMesh } from './helpers/mesh.js';

// This file stops a subgraph, so it has a mesh of its own: no other test file sees the outage.
let mesh: TestMesh;
let auth: Record<string, string>;
const query = (text: string) => mesh.query(text, undefined, auth);
let customer42: { fullName: string; region: string };
beforeAll(async () => {
  mesh = await startMesh();
  auth = await fullAccess();
  const row = mesh.database('customers').prepare('SELECT first_name, last_name, region FROM customers WHERE id = 42').get() as {
    first_name: string;
    last_name: string;
    region: string;
  };
  customer42 = { fullName: `${row.first_name} ${row.last_name}`, region: row.region };
});
afterAll(() => mesh?.close());

const CUSTOMER_WITH_MARKETING = `{
  customer(id: "42") { fullName region segment { name } consent { emailOptIn } }
}`;

describe('one domain down: partial results, not a failed graph', () => {
  it('answers with every domain while all subgraphs are up', async () => {
    const { status, body } = await query(CUSTOMER_WITH_MARKETING);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.customer).toMatchObject(customer42);
    expect(body.data.customer.consent).toEqual({ emailOptIn: expect.any(Boolean) });
  });

  it('serves the customers data with the marketing fields null and a SUBGRAPH_UNAVAILABLE error naming marketing', async () => {
    await mesh.subgraphs.marketing!.close();

    const { status, body } = await query(CUSTOMER_WITH_MARKETING);
    expect(status).toBe(200);
    expect(body.data.customer).toEqual({ ...customer42, segment: null, consent: null });
    expect(body.errors?.length).toBeGreaterThan(0);
    for (const error of body.errors!) {
      expect(error.message).toMatch(/marketing/);
      expect(error.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
      expect(error.extensions?.serviceName).toBe('marketing');
    }
    // No internals leak to the client.
    expect(JSON.stringify(body.errors)).not.toMatch(/stacktrace|    at /);
  });

  it('does the same for a list: every customer is served, every segment is null', async () => {
    const { body } = await query('{ customers(first: 5) { id fullName segment { name } } }');
    expect(body.data.customers).toHaveLength(5);
    for (const customer of body.data.customers) {
      expect(customer).toEqual({ id: expect.any(String), fullName: expect.any(String), segment: null });
    }
    expect(body.errors?.map((e) => e.extensions?.code)).toContain('SUBGRAPH_UNAVAILABLE');
  });

  it('fails only the root field of the stopped domain, and keeps the other root fields', async () => {
    const { status, body } = await query('{ campaign(id: "1") { name } customer(id: "42") { fullName } }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ campaign: null, customer: { fullName: customer42.fullName } });
    expect(body.errors!.some((e) => e.extensions?.code === 'SUBGRAPH_UNAVAILABLE' && /marketing/.test(e.message))).toBe(true);
  });

  it('keeps serving the other domains, without errors, after the outage', async () => {
    const { status, body } = await query(`{
      customer(id: "42") { fullName lifetimeValue orders(first: 1) { id invoice { number } lines { product { name } } } }
    }`);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.customer.fullName).toBe(customer42.fullName);
    expect(body.data.customer.orders).toHaveLength(1);
    const health = await fetch(`${mesh.gateway.url}/health`);
    expect(health.status).toBe(200);
  });
});
