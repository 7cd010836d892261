import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, IdentitySigner, type ForwardedIdentity } from '../subgraphs/mesh/identity.js';
import { engines } from './helpers/engines.js';
import { startMesh, TEST_SIGNING_KEY, token, type TestMesh } from './helpers/mesh.js';

/**
 * The region rule (governance file `rowRules.customer-region`) in every domain: what the issue
 * found, and what a region-restricted caller sees of aggregates (only its region).
 */
const bearer = async (scopes: string[], claims: Record<string, unknown>, purpose?: string) => ({
  authorization: `Bearer ${await token(scopes, claims)}`,
  ...(purpose ? { 'x-data-purpose': purpose } : {}),
});
const SCOPES = ['customers:pii:read', 'sales:read', 'marketing:consent:read'];

const europeOnly = { rows: { Customer: { match: { region: 'EUROPE' }, consent: false } } };

/** Calls a subgraph directly, as the gateway would, with a signed identity restricted to `region`. */
async function askMesh(mesh: TestMesh, subgraph: string, query: string, identity: Partial<ForwardedIdentity> = {}) {
  const header = await new IdentitySigner(TEST_SIGNING_KEY).header({ authenticated: true, subject: 'tester', scopes: [], claims: {}, ...identity });
  const response = await fetch(mesh.subgraphs[subgraph]!.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: header },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

// Every rule is SQL in the domains' repositories: each engine must apply it, and give the answers
// computed here from the SQLite reference data (the PostgreSQL databases hold the same data).
describe.each(engines())('row-level rules on %s', (engine) => {
  let mesh: TestMesh;
  const regionOf = new Map<number, string>();
  beforeAll(async () => {
    mesh = await startMesh({}, { engine });
    for (const r of mesh.database('customers').prepare('SELECT id, region FROM customers').all() as { id: number; region: string }[]) regionOf.set(r.id, r.region);
  });
  afterAll(() => mesh?.close());
  const askSubgraph = (subgraph: string, query: string, identity: Partial<ForwardedIdentity> = {}) => askMesh(mesh, subgraph, query, identity);

  describe('finance: invoices and payments follow their customer', () => {
    it('hides another region\'s invoice (number, total, payments) and shows the caller\'s own, with its customer', async () => {
      const finance = mesh.database('finance');
      const invoices = finance.prepare('SELECT i.id, i.number, i.customer_id FROM invoices i WHERE EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id) ORDER BY i.id LIMIT 200').all() as {
        id: number;
        number: string;
        customer_id: number;
      }[];
      const other = invoices.find((i) => regionOf.get(i.customer_id) === 'NORTH_AMERICA')!;
      const own = invoices.find((i) => regionOf.get(i.customer_id) === 'EUROPE')!;
      const europe = await bearer([], { department: 'finance', region: 'EUROPE' });
      const q = (id: number) => `{ invoice(id: "${id}") { number total payments { amount } customer { id region } } }`;
      const hidden = await mesh.query(q(other.id), undefined, europe);
      expect(hidden.body).toMatchObject({ data: { invoice: null } });
      expect(hidden.body.errors).toBeUndefined();
      const shown = await mesh.query(q(own.id), undefined, europe);
      expect(shown.body.errors).toBeUndefined();
      expect(shown.body.data.invoice).toMatchObject({ number: own.number, customer: { id: String(own.customer_id), region: 'EUROPE' } });
      expect(shown.body.data.invoice.payments.length).toBeGreaterThan(0);
    });

    it('gives a region-restricted caller revenue over its region\'s customers only', async () => {
      const finance = mesh.database('finance');
      const europeIds = JSON.stringify([...regionOf].filter(([, r]) => r === 'EUROPE').map(([id]) => id));
      const expected = finance
        .prepare(
          `SELECT substr(i.issued_on, 1, 4) AS period, ROUND(SUM(l.net_amount), 2) AS revenue FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
           WHERE i.status != 'CREDITED' AND i.customer_id IN (SELECT value FROM json_each(?)) GROUP BY period ORDER BY period`,
        )
        .all(europeIds) as { period: string; revenue: number }[];
      const { body } = await mesh.query('{ revenue(period: YEAR) { period revenue } }', undefined, await bearer([], { department: 'finance', region: 'EUROPE' }));
      expect(body.errors).toBeUndefined();
      expect(body.data.revenue).toEqual(expected);
      const all = await mesh.query('{ revenue(period: YEAR) { period revenue } }', undefined, await bearer([], { department: 'finance' }));
      expect(all.body.data.revenue[0].revenue).toBeGreaterThan(expected[0]!.revenue);
    });
  });

  describe('sales: per-customer figures are null for a hidden customer, never a wrong value', () => {
    it('answers null lifetimeValue and orderCount for another region\'s customer, even when asked for it by key', async () => {
      const sales = mesh.database('sales');
      const other = sales.prepare("SELECT customer_id AS id FROM orders WHERE region = 'NORTH_AMERICA' GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 1").get() as { id: number };
      const own = sales.prepare("SELECT customer_id AS id, COUNT(*) AS n FROM orders WHERE region = 'EUROPE' GROUP BY customer_id ORDER BY n DESC LIMIT 1").get() as { id: number; n: number };
      const idle = [...regionOf].find(([id, r]) => r === 'EUROPE' && !sales.prepare('SELECT 1 FROM orders WHERE customer_id = ?').get(id))![0];
      // Through the gateway, the customer itself is hidden.
      const europe = await bearer([], { region: 'EUROPE' });
      const viaGateway = await mesh.query(`{ customer(id: "${other.id}") { lifetimeValue orderCount } }`, undefined, europe);
      expect(viaGateway.body.data).toEqual({ customer: null });
      // At the source, for whatever key another subgraph might hand over: null, not 0.
      const entities = `{ _entities(representations: [${[other.id, own.id, idle].map((id) => `{ __typename: "Customer", id: "${id}" }`).join(', ')}]) { ... on Customer { orderCount lifetimeValue orders(first: 3) { id } } } }`;
      const { data, errors } = await askSubgraph('sales', entities, europeOnly);
      expect(errors).toBeUndefined();
      expect(data._entities[0]).toEqual({ orderCount: null, lifetimeValue: null, orders: [] });
      expect(data._entities[1].orderCount).toBe(own.n);
      expect(data._entities[1].orders).toHaveLength(3);
      expect(data._entities[2]).toEqual({ orderCount: 0, lifetimeValue: 0, orders: [] });
    });

    it('computes sales trends over the caller\'s region only; another region\'s filter gives none', async () => {
      const europe = await bearer(['sales:read'], { region: 'EUROPE' });
      const { body } = await mesh.query('{ salesTrends(period: YEAR, groupByRegion: true) { period region orders units } }', undefined, europe);
      expect(body.errors).toBeUndefined();
      expect(new Set(body.data.salesTrends.map((p: { region: string }) => p.region))).toEqual(new Set(['EUROPE']));
      const expected = mesh
        .database('sales')
        .prepare(
          `SELECT substr(o.placed_at, 1, 4) AS period, COUNT(DISTINCT o.id) AS orders, SUM(l.quantity) AS units FROM orders o JOIN order_lines l ON l.order_id = o.id
           WHERE o.status != 'CANCELLED' AND o.region = 'EUROPE' GROUP BY period ORDER BY period`,
        )
        .all() as { period: string; orders: number; units: number }[];
      expect(body.data.salesTrends.map((p: any) => ({ period: p.period, orders: p.orders, units: p.units }))).toEqual(expected);
      const elsewhere = await mesh.query('{ salesTrends(period: YEAR, region: ASIA_PACIFIC) { period } }', undefined, europe);
      expect(elsewhere.body.data.salesTrends).toEqual([]);
    });

    it('counts units sold and product trends over the caller\'s region only', async () => {
      const sales = mesh.database('sales');
      const units = (region: string | null) =>
        (sales
          .prepare(
            `SELECT SUM(l.quantity) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.product_id = 1 AND o.status NOT IN ('CANCELLED', 'RETURNED') AND (?1 IS NULL OR o.region = ?1)`,
          )
          .get({ 1: region }) as { n: number }).n;
      const q = '{ product(id: "1") { unitsSold salesTrend(period: YEAR, last: 10) { units } } }';
      const europe = await mesh.query(q, undefined, await bearer(['sales:read'], { region: 'EUROPE' }));
      const everyone = await mesh.query(q, undefined, await bearer(['sales:read'], {}));
      expect(europe.body.data.product.unitsSold).toBe(units('EUROPE'));
      expect(everyone.body.data.product.unitsSold).toBe(units(null));
      const sum = (p: { salesTrend: { units: number }[] }) => p.salesTrend.reduce((n, t) => n + t.units, 0);
      expect(sum(europe.body.data.product)).toBeLessThan(sum(everyone.body.data.product));
    });
  });

  describe('marketing: responses, segments and consent follow their customer', () => {
    it('lists campaign responses of the caller\'s region: one hidden customer never blanks the list', async () => {
      const europe = await bearer(SCOPES, { department: 'marketing', region: 'EUROPE' }, 'marketing');
      const { body } = await mesh.query('{ campaigns(first: 50) { id responses(first: 200) { customer { id region firstName } } } }', undefined, europe);
      expect(body.errors).toBeUndefined();
      const responses = body.data.campaigns.flatMap((c: any) => c.responses);
      expect(responses.length).toBeGreaterThan(50);
      for (const r of responses) expect(r.customer.region).toBe('EUROPE');
    });

    it('sizes segments and response rates over the caller\'s region', async () => {
      const marketing = mesh.database('marketing');
      const europeIds = JSON.stringify([...regionOf].filter(([, r]) => r === 'EUROPE').map(([id]) => id));
      const expected = marketing
        .prepare('SELECT s.id, (SELECT COUNT(*) FROM customer_segments m WHERE m.segment_id = s.id AND m.customer_id IN (SELECT value FROM json_each(?))) AS n FROM segments s ORDER BY s.id')
        .all(europeIds) as { id: number; n: number }[];
      const { body } = await mesh.query('{ segments { id customerCount } }', undefined, await bearer([], { region: 'EUROPE' }));
      expect(body.data.segments).toEqual(expected.map((s) => ({ id: String(s.id), customerCount: s.n })));
    });

    it('answers the consent and segment of a hidden customer with null at the source', async () => {
      const other = [...regionOf].find(([, r]) => r === 'ASIA_PACIFIC')![0];
      const { data } = await askSubgraph('marketing', `{ _entities(representations: [{ __typename: "Customer", id: "${other}" }]) { ... on Customer { consent { emailOptIn } segment { id } campaignResponses { kind } } } }`, europeOnly);
      expect(data._entities[0]).toEqual({ consent: null, segment: null, campaignResponses: [] });
    });
  });

  describe('a malformed region claim', () => {
    it('restricts to nothing, in every domain (never to everything)', async () => {
      const odd = await bearer(['sales:read'], { region: ['EUROPE'], department: 'finance' });
      const { body } = await mesh.query('{ customers(first: 5) { id } order(id: "1") { id } invoice(id: "1") { id } salesTrends(period: YEAR) { orders } }', undefined, odd);
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ customers: [], order: null, invoice: null, salesTrends: [] });
    });
  });
});
