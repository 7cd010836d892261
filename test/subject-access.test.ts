import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMesh, token, type TestMesh } from './helpers/mesh.js';

const REPORT = /* GraphQL */ `
  query Report($id: ID!) {
    subjectAccess(customerId: $id) {
      subjectType customerId found generatedAt requestedBy
      products {
        product { id name version domain owner contact purpose }
        subgraph fields coordinates records data
        lineage { source references { product kind entity via } inputPorts }
      }
      incomplete { subgraph error }
      omitted { coordinate reason }
    }
  }
`;

describe('subject access report (GDPR art. 15)', () => {
  let mesh: TestMesh;
  const report = async (id: string, claims: Record<string, unknown> = {}) => {
    const { body } = await mesh.query(REPORT, { id }, { authorization: `Bearer ${await token(['privacy:subject-access'], claims, 'dpo')}` });
    expect(body.errors).toBeUndefined();
    return body.data.subjectAccess;
  };
  const section = (r: any, product: string) => r.products.find((p: any) => p.product?.id === product);

  beforeAll(async () => {
    mesh = await startMesh({ privacy: { audit: { path: join(mkdtempSync(join(tmpdir(), 'sar-')), 'audit.db') } } });
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('needs the scope privacy:subject-access', async () => {
    const { body } = await mesh.query(REPORT, { id: '42' }, { authorization: `Bearer ${await token(['customers:pii:read', 'sales:read', 'governance:audit:read'], { department: 'finance' })}` });
    expect(body.data).toBeNull();
    expect(body.errors![0]).toMatchObject({ path: ['subjectAccess'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
  });

  it('returns what every domain holds about the customer, grouped by data product', async () => {
    const r = await report('42');
    if (process.env.SHOW_REPORT) console.log(JSON.stringify({ ...r, products: r.products.map((p: any) => ({ ...p, data: JSON.stringify(p.data).slice(0, 300) })) }, null, 1));
    expect(r).toMatchObject({ subjectType: 'Customer', customerId: '42', found: true, requestedBy: 'dpo', incomplete: [] });
    expect(r.products.map((p: any) => p.product?.id)).toEqual(
      expect.arrayContaining(['campaign-performance', 'customer-profiles', 'customer-segments', 'invoices-payments', 'marketing-consent', 'order-history']),
    );
    const customer = mesh.database('customers').prepare('SELECT * FROM customers WHERE id = 42').get() as Record<string, string>;
    expect(section(r, 'customer-profiles')).toMatchObject({
      subgraph: 'customers',
      data: { email: customer.email, lastName: customer.last_name, birthDate: customer.birth_date, region: customer.region },
    });
    const orders = mesh.database('sales').prepare('SELECT id FROM orders WHERE customer_id = 42').all() as { id: number }[];
    const history = section(r, 'order-history');
    expect(history.fields).toEqual(expect.arrayContaining(['Customer.orders', 'Customer.lifetimeValue']));
    expect(history.data.orders.map((o: any) => Number(o.id)).sort((a: number, b: number) => a - b)).toEqual(orders.map((o) => o.id).sort((a, b) => a - b));
    expect(history.data.orders[0].lines[0]).toMatchObject({ product: { id: expect.any(String) }, quantity: expect.any(Number) });
    const invoices = mesh.database('finance').prepare('SELECT COUNT(*) AS n FROM invoices WHERE customer_id = 42').get() as { n: number };
    expect(section(r, 'invoices-payments').data.invoices).toHaveLength(invoices.n);
    expect(section(r, 'marketing-consent').data.consent).toEqual(expect.objectContaining({ emailOptIn: expect.any(Boolean) }));
  });

  it('holds every row of a list longer than its page: customer 5\'s 113 orders and all its invoices, read through their connections', async () => {
    const r = await report('5');
    expect(r.incomplete).toEqual([]);
    const orders = mesh.database('sales').prepare('SELECT id FROM orders WHERE customer_id = 5').all() as { id: number }[];
    expect(orders.length).toBeGreaterThan(100);
    const reported = section(r, 'order-history').data.orders.map((o: any) => Number(o.id));
    expect(new Set(reported).size).toBe(reported.length);
    expect(reported.sort((a: number, b: number) => a - b)).toEqual(orders.map((o) => o.id).sort((a, b) => a - b));
    const invoices = mesh.database('finance').prepare('SELECT COUNT(*) AS n FROM invoices WHERE customer_id = 5').get() as { n: number };
    expect(section(r, 'invoices-payments').data.invoices).toHaveLength(invoices.n);
    // The connections themselves are not sections of their own: they page the lists.
    expect(section(r, 'order-history').fields).not.toContain('Customer.ordersConnection');
  });

  it('gives each product its lineage and says where the data came from', async () => {
    const r = await report('42');
    const history = section(r, 'order-history');
    expect(history.product).toMatchObject({ id: 'order-history', domain: 'sales', owner: 'Sales Analytics' });
    expect(history.lineage.source).toBe('subgraph sales, Customer(id: "42") by entity key');
    expect(history.lineage.references).toEqual(expect.arrayContaining([expect.objectContaining({ product: 'customer-profiles', kind: 'EXTENDS', entity: 'Customer' })]));
    expect(history.coordinates).toEqual(expect.arrayContaining(['Customer.orders', 'Order.total', 'OrderLine.product']));
  });

  it("never includes another person's data: other customers appear by key only, collections of other objects are not followed", async () => {
    const r = await report('42');
    const ids: string[] = [];
    const walk = (v: unknown, key = '') => {
      if (Array.isArray(v)) return v.forEach((x) => walk(x, key));
      if (typeof v !== 'object' || v === null) return;
      if (key === 'customer') {
        expect(Object.keys(v)).toEqual(['id']);
        ids.push((v as { id: string }).id);
      }
      for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    for (const p of r.products) walk(p.data);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids)).toEqual(new Set(['42']));
    const campaign = section(r, 'campaign-performance');
    expect(campaign.coordinates).not.toContain('Campaign.responses');
  });

  it("applies the caller's row-level rules: a region-restricted officer gets nothing about another region's customer", async () => {
    const r = await report('42', { region: 'EUROPE' });
    expect(r.found).toBe(false);
    expect(r.products.filter((p: any) => p.product?.id === 'customer-profiles')).toEqual([]);
  });

  it('says when no domain knows the customer', async () => {
    const r = await report('99999999');
    expect(r.found).toBe(false);
    expect(r.products).toEqual([]);
  });

  it('is itself audited, naming whose data was reported', async () => {
    await report('7');
    const { body } = await mesh.query('{ auditEvents(subject: "dpo") { events { operationName coordinates details } } }', undefined, {
      authorization: `Bearer ${await token(['governance:audit:read'], {}, 'auditor')}`,
    });
    const event = body.data.auditEvents.events.filter((e: any) => e.coordinates.includes('Query.subjectAccess')).at(-1);
    expect(event).toMatchObject({ operationName: 'Report', details: { subjectAccess: { subjectType: 'Customer', customerId: '7' } } });
  });
});
