import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_QUERY } from '../gateway/explorer/example-query.js';
import { outputFields } from '../subgraphs/mesh/data-products/accessors.js';
import { DESCRIPTOR_FILE } from '../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { replaceOnce, startVariantMesh, type VariantMesh } from './helpers/data-products.js';
import { fullAccess, startMesh, token, type TestMesh } from './helpers/mesh.js';

const products = DOMAINS.flatMap((d) => loadDescriptorFile(join(dirname(d.schemaPath), DESCRIPTOR_FILE)));
const version = (id: string) => products.find((p) => p.id === id)!.version;
/** The products a set of coordinates belongs to, per the descriptors, as the extension lists them. */
const expected = (...ids: string[]) => ids.sort().map((id) => ({ id, version: version(id) }));

let mesh: TestMesh;
let auth: Record<string, string>;
beforeAll(async () => {
  mesh = await startMesh();
  auth = await fullAccess();
});
afterAll(() => mesh?.close());

describe('extensions.dataProducts: every response names the products it used', () => {
  it('lists, with their versions, the products of every field of a cross-domain query (the explorer example)', async () => {
    const { body } = await mesh.query(EXAMPLE_QUERY, undefined, auth);
    expect(body.errors).toBeUndefined();
    // customer → customer-profiles; segment → customer-segments; lifetimeValue, orders → order-history;
    // invoice → invoices-payments; product, category → product-catalog; salesTrend → sales-trends.
    expect(body.extensions!.dataProducts).toEqual(expected('customer-profiles', 'customer-segments', 'order-history', 'invoices-payments', 'product-catalog', 'sales-trends'));
    expect(body.extensions!.warnings).toBeUndefined();
  });

  it('matches the descriptors: a field of each product names exactly that product', async () => {
    for (const p of products) {
      const root = outputFields(p).find((f) => f.object.name === 'Query');
      if (!root) continue;
      const args = { 'Query.customer': '(id: "1")', 'Query.order': '(id: "1")', 'Query.invoice': '(id: "1")', 'Query.campaign': '(id: "1")', 'Query.product': '(id: "1")' }[root.coordinate] ?? '';
      // A purpose the product allows (purpose limitation), marketing where it may.
      const purpose = p.purposes.includes('marketing') ? 'marketing' : (p.purposes[0] ?? 'marketing');
      const { body } = await mesh.query(`{ ${root.property.name}${args} { __typename } }`, undefined, { ...auth, 'x-data-purpose': purpose });
      expect(body.extensions?.dataProducts, root.coordinate).toEqual(expected(p.id));
    }
  });

  it('follows fragments and aliases', async () => {
    const { body } = await mesh.query(
      `query Q { first: customer(id: "3") { ...Money } second: product(id: "2") { ... on Product { sku } } }
       fragment Money on Customer { invoices(first: 1) { total } }`,
      undefined,
      auth,
    );
    expect(body.errors).toBeUndefined();
    // Query.customer is customer-profiles' entry point; the invoices come from invoices-payments.
    expect(body.extensions!.dataProducts).toEqual(expected('customer-profiles', 'invoices-payments', 'product-catalog'));
  });

  it('leaves out what authorization removed: those products contributed nothing', async () => {
    const query = '{ customer(id: "1") { firstName consent { emailOptIn } } }';
    const anonymous = await mesh.query(query);
    expect(anonymous.body.data.customer.consent).toBeNull();
    expect(anonymous.body.extensions!.dataProducts).toEqual(expected('customer-profiles'));
    // Same operation, allowed: the cached analysis does not leak between callers.
    const allowed = await mesh.query(query, undefined, { authorization: `Bearer ${await token(['marketing:consent:read'])}` });
    expect(allowed.body.errors).toBeUndefined();
    expect(allowed.body.extensions!.dataProducts).toEqual(expected('customer-profiles', 'marketing-consent'));
  });

  it('adds nothing to responses without product data: introspection, __typename, the catalog itself', async () => {
    for (const query of ['{ __typename }', '{ __schema { queryType { name } } }', '{ dataProducts { id } }']) {
      const { body } = await mesh.query(query);
      expect(body.errors, query).toBeUndefined();
      expect(body.extensions?.dataProducts, query).toBeUndefined();
    }
  });
});

describe('extensions.warnings: deprecated products and fields, with their sunset dates', () => {
  let variant: VariantMesh;
  beforeAll(async () => {
    variant = await startVariantMesh({
      sales: {
        schema: (sdl) =>
          replaceOnce(sdl, 'orderCount: Int @authenticated @classification(level: INTERNAL)', 'orderCount: Int @authenticated @classification(level: INTERNAL) @deprecated(reason: "Count Customer.orders instead")'),
        descriptor: (yaml) =>
          replaceOnce(
            replaceOnce(
              replaceOnce(yaml, '{ name: orderCount, classification: internal }', '{ name: orderCount, classification: internal, sunset: 2027-03-31 }'),
              'status: active\ndomain: sales\ntags: [analytics',
              'status: deprecated\ndomain: sales\ntags: [analytics',
            ),
            '  - property: availability\n    value: 99.0\n',
            '  - property: availability\n    value: 99.0\n    unit: percent\n  - property: endOfLife\n    value: 2027-06-30\n    description: Replaced by revenue-margin.\n  - property: retention\n    value: 1\n',
          ),
      },
    });
  });
  afterAll(() => variant?.close());

  it('warns about a deprecated product, once, with its sunset date', async () => {
    const { body } = await variant.query('{ salesTrends(period: YEAR) { period revenue } product(id: "1") { unitsSold } }', undefined, auth);
    expect(body.errors).toBeUndefined();
    expect(body.extensions).toEqual({
      dataProducts: expected('product-catalog', 'sales-trends'),
      warnings: [
        {
          code: 'DEPRECATED_DATA_PRODUCT',
          message: `Data product sales-trends ${version('sales-trends')} is deprecated and will be removed on 2027-06-30.`,
          dataProduct: 'sales-trends',
          sunset: '2027-06-30',
        },
      ],
    });
  });

  it('warns about a deprecated field with the sunset date from the descriptor', async () => {
    const { body } = await variant.query('{ customer(id: "8") { orderCount lifetimeValue } }', undefined, auth);
    expect(body.errors).toBeUndefined();
    expect(body.extensions!.warnings).toEqual([
      {
        code: 'DEPRECATED_FIELD',
        message: 'Customer.orderCount is deprecated (Count Customer.orders instead) and will be removed on 2027-03-31.',
        coordinate: 'Customer.orderCount',
        dataProduct: 'order-history',
        sunset: '2027-03-31',
      },
    ]);
  });

  it('shows the deprecation and sunset dates in the catalog too', async () => {
    const { body } = await variant.query(`{
      dataProducts(status: DEPRECATED) { id sunset sla { endOfLife } }
      dataProduct(id: "order-history") { fields { coordinate deprecated deprecationReason sunset } }
    }`);
    expect(body.data.dataProducts).toEqual([{ id: 'sales-trends', sunset: '2027-06-30', sla: { endOfLife: '2027-06-30' } }]);
    expect(body.data.dataProduct.fields.find((f: any) => f.coordinate === 'Customer.orderCount')).toEqual({
      coordinate: 'Customer.orderCount',
      deprecated: true,
      deprecationReason: 'Count Customer.orders instead',
      sunset: '2027-03-31',
    });
  });
});
