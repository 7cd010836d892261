import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAINS } from '../subgraphs/registry.js';
import { engines } from './helpers/engines.js';
import { fullAccess, startMesh, type TestMesh } from './helpers/mesh.js';

// The domains' answers on each engine, checked against the SQLite reference data (the PostgreSQL
// databases are seeded with the same data).
describe.each(engines())('cross-domain queries through the gateway, on %s', (engine) => {
  let mesh: TestMesh;
  let auth: Record<string, string>;
  const query = (text: string) => mesh.query(text, undefined, auth);
  beforeAll(async () => {
    mesh = await startMesh({}, { engine });
    auth = await fullAccess();
  });
  afterAll(() => mesh?.close());

  it('joins customers → orders → lines → products and invoices, matching every database', async () => {
    const { status, body } = await query(`{
      customer(id: "42") {
        id fullName region
        orders(first: 3) { id total placedAt invoice { number total } lines { quantity amount product { id sku price } } }
      }
    }`);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const customer = body.data.customer;

    const c = mesh.database('customers').prepare('SELECT * FROM customers WHERE id = 42').get() as any;
    expect(customer.fullName).toBe(`${c.first_name} ${c.last_name}`);
    expect(customer.region).toBe(c.region);

    const sales = mesh.database('sales');
    const orders = sales.prepare('SELECT * FROM orders WHERE customer_id = 42 ORDER BY placed_at DESC, id DESC LIMIT 3').all() as any[];
    expect(customer.orders.map((o: any) => o.id)).toEqual(orders.map((o) => String(o.id)));
    const finance = mesh.database('finance');
    const products = mesh.database('products');
    for (const [i, order] of customer.orders.entries()) {
      expect(order.total).toBe(orders[i].total);
      const lines = sales.prepare('SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_number').all(orders[i].id) as any[];
      expect(order.lines.map((l: any) => [l.quantity, l.amount, l.product.id])).toEqual(lines.map((l) => [l.quantity, l.amount, String(l.product_id)]));
      for (const line of order.lines) {
        const p = products.prepare('SELECT sku, price FROM products WHERE id = ?').get(Number(line.product.id)) as any;
        expect(line.product).toMatchObject({ sku: p.sku, price: p.price });
      }
      const invoice = finance.prepare('SELECT number, total FROM invoices WHERE order_id = ?').get(orders[i].id) as any;
      expect(order.invoice).toEqual(invoice ?? null);
    }
  });

  it('computes lifetime value and sales trends in SQL, equal to an independent aggregate', async () => {
    const { body } = await query(`{
      customer(id: "7") { lifetimeValue orderCount }
      product(id: "3") { name salesTrend(period: YEAR, last: 3) { period units revenue } }
    }`);
    expect(body.errors).toBeUndefined();
    const sales = mesh.database('sales');
    const ltv = sales
      .prepare("SELECT ROUND(SUM(total), 2) AS v, (SELECT COUNT(*) FROM orders WHERE customer_id = 7) AS n FROM orders WHERE customer_id = 7 AND status NOT IN ('CANCELLED','RETURNED')")
      .get() as any;
    expect(body.data.customer).toEqual({ lifetimeValue: ltv.v, orderCount: ltv.n });
    const years = sales
      .prepare(
        `SELECT substr(o.placed_at,1,4) AS period, SUM(l.quantity) AS units, ROUND(SUM(l.amount),2) AS revenue
         FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.product_id = 3 AND o.status != 'CANCELLED'
         GROUP BY period ORDER BY period`,
      )
      .all();
    expect(body.data.product.salesTrend).toEqual(years);
  });

  it('resolves marketing segment and finance margin (@requires price) for the same entities', async () => {
    const { body } = await query(`{
      customers(first: 5) { id segment { name } consent { emailOptIn } }
      product(id: "10") { price unitCost unitMargin }
    }`);
    expect(body.errors).toBeUndefined();
    const marketing = mesh.database('marketing');
    for (const c of body.data.customers) {
      const row = marketing.prepare('SELECT s.name FROM customer_segments m JOIN segments s ON s.id = m.segment_id WHERE m.customer_id = ?').get(Number(c.id)) as any;
      expect(c.segment).toEqual(row ? { name: row.name } : null);
    }
    const { price, unitCost, unitMargin } = body.data.product;
    expect(unitMargin).toBeCloseTo(price - unitCost, 2);
  });

  // The gateway's own behaviour does not depend on the engine: once is enough.
  if (engine !== 'sqlite') return;

  it('answers GET /health with 200 and the subgraphs it routes to', async () => {
    const response = await fetch(`${mesh.gateway.url}/health`);
    expect(response.status).toBe(200);
    expect((await response.json()).subgraphs.sort()).toEqual(DOMAINS.map((d) => d.name).sort());
  });

  it('turns a malformed request into a GraphQL error with a code, not a crash', async () => {
    const bad = await fetch(mesh.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
    const invalid = await query('{ customer(id: "1") { noSuchField } }');
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const huge = await fetch(mesh.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(2_000_000) } }),
    });
    expect(huge.status).toBe(413);
    expect((await huge.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const after = await query('{ customer(id: "1") { id } }');
    expect(after.body.data.customer.id).toBe('1');
  });
});
