import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from './helpers/engines.js';
import { fullAccess, startMesh, type TestMesh } from './helpers/mesh.js';

/** Customers → orders (sales) → lines (sales) → product (products) + category, segment (marketing), invoice (finance). */
const DEEP_QUERY = `query Deep($first: Int!) {
  customers(first: $first) {
    id
    fullName
    segment { name }
    orders(first: 5) {
      id
      total
      invoice { number status }
      lines { quantity product { id name category { name } } }
    }
  }
}`;

type Counts = Record<string, number>;

/** SQL statements each subgraph executed while answering one query (the query must succeed). */
async function statementsOf(mesh: TestMesh, auth: Record<string, string>, received: Counts, first: number): Promise<{ counts: Counts; requests: Counts; rows: { customers: number; orders: number; lines: number } }> {
  const before = Object.fromEntries(Object.entries(mesh.subgraphs).map(([name, s]) => [name, s.db.statementsExecuted]));
  const requestsBefore = Object.fromEntries(Object.keys(mesh.subgraphs).map((name) => [name, received[name] ?? 0]));
  const { status, body } = await mesh.query(DEEP_QUERY, { first }, auth);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  const counts = Object.fromEntries(Object.entries(mesh.subgraphs).map(([name, s]) => [name, s.db.statementsExecuted - before[name]!]));
  const requests = Object.fromEntries(Object.keys(mesh.subgraphs).map((name) => [name, (received[name] ?? 0) - requestsBefore[name]!]));
  const customers = body.data.customers as { orders: { lines: unknown[] }[] }[];
  const orders = customers.flatMap((c) => c.orders);
  return { counts, requests, rows: { customers: customers.length, orders: orders.length, lines: orders.flatMap((o) => o.lines).length } };
}

describe.each(engines())('batching on %s: one SQL statement per entity batch, whatever the number of rows', (engine) => {
  // Counting statements needs a mesh no other test sends queries to at the same time.
  let mesh: TestMesh;
  let auth: Record<string, string>;
  // GraphQL requests each subgraph received; the gateway's readiness probes (every 5 s, at any moment) are not the query's.
  const received: Counts = {};
  beforeAll(async () => {
    mesh = await startMesh({}, {
      engine,
      onSubgraphRequest: (subgraph, body) => {
        if (!String(body.query).startsWith('query __ApolloServiceHealthCheck__')) received[subgraph] = (received[subgraph] ?? 0) + 1;
      },
    });
    auth = await fullAccess();
  });
  afterAll(() => mesh?.close());
  const statementsFor = (first: number) => statementsOf(mesh, auth, received, first);

  it('answers 100 customers with their orders, lines, products, segments and invoices in a handful of statements per subgraph', async () => {
    const { counts, rows } = await statementsFor(100);
    expect(rows.customers).toBe(100);
    expect(rows.orders).toBeGreaterThan(100);
    expect(rows.lines).toBeGreaterThan(rows.orders);
    // customers: the page of customers. sales: orders of all customers, lines of all orders.
    // products: all products, their categories. marketing: all memberships, then their segments.
    // finance: all invoices. Any other domain: nothing (the query reads none of its fields).
    const none = Object.fromEntries(Object.keys(mesh.subgraphs).map((name) => [name, 0]));
    expect(counts).toEqual({ ...none, customers: 1, sales: 2, products: 2, marketing: 2, finance: 1 });
  });

  it('executes the same statements for 10 customers as for 100', async () => {
    const ten = await statementsFor(10);
    const hundred = await statementsFor(100);
    expect(hundred.rows.lines).toBeGreaterThan(5 * ten.rows.lines);
    expect(ten.counts).toEqual(hundred.counts);
    // The gateway, too, fetches each entity batch in one request per subgraph.
    expect(ten.requests).toEqual(hundred.requests);
    expect(Math.max(...Object.values(hundred.requests))).toBeLessThanOrEqual(2);
  });

  it('still executes the same statements for 300 customers and more than a thousand order lines', async () => {
    const ten = await statementsFor(10);
    const many = await statementsFor(300);
    expect(many.rows.lines).toBeGreaterThan(1000);
    expect(many.counts).toEqual(ten.counts);
  });
});
