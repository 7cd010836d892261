import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_TYPE_DEFS } from '../gateway/catalog/catalog-schema.js';
import { addSubgraphToSupergraph } from '../gateway/catalog/merge-supergraph.js';
import { composeSubgraphs } from '../gateway/composition/compose-supergraph.js';
import { startGateway } from '../gateway/server/gateway-server.js';
import { outputFields, qualityRules } from '../subgraphs/mesh/data-products/accessors.js';
import { DESCRIPTOR_FILE, type DataProduct } from '../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { postGraphQL, startMesh, testConfig, type TestMesh } from './helpers/mesh.js';

/** What the repository declares: every product with the subgraph that declares it. */
const declared: { product: DataProduct; subgraph: string }[] = DOMAINS.flatMap((d) =>
  loadDescriptorFile(join(dirname(d.schemaPath), DESCRIPTOR_FILE)).map((product) => ({ product, subgraph: d.name })),
);

const PRODUCT = `
  id name version status domain subgraph tags
  description { purpose usage limitations }
  owner { team contact members { username role email } }
  support { channel tool }
  sla { freshness { value unit element } availability { value unit } latency { value unit } endOfLife }
  sunset outputTypes rootFields
  fields { coordinate typeName fieldName type description classification pii rootField deprecated served
           authorization { summary public authenticated scopes policies } }
  freshness { element lastUpdated ageSeconds targetSeconds withinSla asOf }
  quality { status checkedAt rules passed failed results { rule metric coordinate target severity status value unit expectation } }
  lineage { references { product { id } kind entity key via } referencedBy { product { id } kind entity via } }
  inputPorts { name contractId product { id } }
  descriptor { file line }
`;

let mesh: TestMesh;
let products: any[];
beforeAll(async () => {
  mesh = await startMesh({ catalog: { maxAgeMs: 0 } });
  // No token: the catalog is readable by anyone.
  const { status, body } = await mesh.query(`{ dataProducts { ${PRODUCT} } }`);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  products = body.data.dataProducts;
});
afterAll(() => mesh?.close());
const product = (id: string) => products.find((p) => p.id === id);
const field = (id: string, coordinate: string) => product(id).fields.find((f: any) => f.coordinate === coordinate);

describe('the catalog in the graph, against the descriptors', () => {
  it('lists every declared product with its metadata, for callers without a token', () => {
    expect(products.map((p) => p.id).sort()).toEqual(declared.map((d) => d.product.id).sort());
    for (const { product: d, subgraph } of declared) {
      expect(product(d.id)).toMatchObject({
        name: d.name,
        version: d.version,
        status: d.status!.toUpperCase(),
        domain: d.domain,
        subgraph,
        tags: d.tags,
        description: d.description,
        owner: { team: d.team!.name, contact: d.support[0]!.channel },
        descriptor: { file: `subgraphs/${subgraph}/data-products.yaml`, line: d.source.line },
      });
    }
  });

  it('shows each product\'s SLA targets as declared', () => {
    const orders = product('order-history');
    expect(orders.sla).toEqual({
      freshness: { value: 2, unit: 'd', element: 'orders.placed_at' },
      availability: { value: 99.5, unit: 'percent' },
      latency: { value: 250, unit: 'ms' },
      endOfLife: null,
    });
    expect(product('product-catalog').sla.freshness).toBeNull();
  });

  it('lists exactly the declared output fields, with the supergraph\'s types and descriptions and the declared classification', () => {
    for (const { product: d } of declared) {
      const fields = product(d.id).fields;
      expect(fields.map((f: any) => f.coordinate)).toEqual(outputFields(d).map((f) => f.coordinate));
      for (const { coordinate, property } of outputFields(d)) {
        const f = fields.find((x: any) => x.coordinate === coordinate);
        expect(f.classification, coordinate).toBe(property.classification!.toUpperCase());
        expect(f.pii, coordinate).toBe(property.pii);
        expect(f.served, coordinate).toBe(true);
      }
    }
    expect(field('customer-profiles', 'Customer.email')).toMatchObject({ type: 'String', description: expect.stringMatching(/^Contact e-mail \(personal data\)\./), rootField: false });
    expect(field('order-history', 'Customer.orders')).toMatchObject({ type: '[Order!]!', description: expect.stringMatching(/most recent orders/) });
    expect(field('customer-profiles', 'Query.customers')).toMatchObject({ rootField: true, type: '[Customer!]!' });
    expect(product('order-history').rootFields).toEqual(['Query.order']);
    expect(product('order-history').outputTypes).toEqual(['Order', 'OrderLine', 'Customer', 'OrderConnection', 'OrderEdge']);
  });

  it('shows the authorization each field needs, read from the supergraph', () => {
    expect(field('product-catalog', 'Product.name').authorization).toEqual({ summary: 'public', public: true, authenticated: false, scopes: null, policies: null });
    expect(field('customer-profiles', 'Customer.email').authorization).toMatchObject({ summary: 'scopes: customers:pii:read', public: false, scopes: [['customers:pii:read']] });
    // Order is @authenticated as a type: every field of it, and every field returning it, needs a token.
    expect(field('order-history', 'Order.total').authorization.summary).toBe('authenticated');
    expect(field('order-history', 'Customer.orders').authorization.summary).toBe('authenticated');
    // Invoice carries @policy as a type; Query.revenue its own alternatives.
    expect(field('invoices-payments', 'Invoice.total').authorization).toMatchObject({ summary: 'policies: finance_analyst', policies: [['finance_analyst']] });
    expect(field('revenue-margin', 'Query.revenue').authorization.summary).toBe('policies: finance_analyst OR executive');
    expect(field('marketing-consent', 'Customer.consent').authorization.scopes).toEqual([['customers:pii:read'], ['marketing:consent:read']]);
    expect(field('sales-trends', 'Product.salesTrend').authorization.summary).toBe('scopes: sales:read');
  });

  it('shows measured freshness and the latest quality results, as the subgraph measured them', () => {
    for (const { product: d, subgraph } of declared) {
      const latest = mesh.subgraphs[subgraph]!.dataProducts.latest!;
      const results = latest.results.filter((r) => r.product === d.id);
      const quality = product(d.id).quality;
      expect(quality).toMatchObject({ status: 'PASSED', checkedAt: latest.checkedAt, rules: results.length, passed: results.length, failed: 0 });
      expect(quality.results.map((r: any) => r.rule)).toEqual(results.map((r) => r.rule));
      expect(results.map((r) => r.rule)).toEqual(expect.arrayContaining(qualityRules(d).map((r) => r.id)));
    }
    expect(field('order-history', 'Order.id')).toBeDefined();
    const orders = product('order-history');
    expect(orders.freshness).toMatchObject({ element: 'orders.placed_at', targetSeconds: 2 * 86_400, withinSla: true, asOf: '2026-01-01T00:00:00.000Z' });
    const newest = mesh.database('sales').prepare('SELECT MAX(placed_at) AS at FROM orders').get() as { at: string };
    expect(orders.freshness.lastUpdated).toBe(newest.at);
    expect(Math.abs(orders.freshness.ageSeconds - (Date.parse('2026-01-01T00:00:00Z') - Date.parse(newest.at)) / 1000)).toBeLessThanOrEqual(1);
    expect(orders.quality.results.find((r: any) => r.rule === 'order-total-positive')).toMatchObject({
      metric: 'invalidValues',
      coordinate: 'Order.total',
      target: 'orders.total',
      severity: 'CRITICAL',
      status: 'PASSED',
      value: 0,
      expectation: '= 0 rows',
    });
  });

  it('follows a new quality run of a subgraph', async () => {
    const before = product('product-catalog').quality.checkedAt;
    const report = await mesh.subgraphs.products!.dataProducts.runQuality();
    const { body } = await mesh.query('{ dataProduct(id: "product-catalog") { quality { checkedAt } } }');
    expect(body.data.dataProduct.quality.checkedAt).toBe(report.checkedAt);
    expect(report.checkedAt >= before).toBe(true);
  });

  it('derives lineage from entity keys, in both directions', () => {
    const refs = (id: string) => product(id).lineage.references.map((l: any) => `${l.kind} ${l.product.id} ${l.entity ?? ''} ${l.via.join(',')}`.trim());
    expect(refs('order-history')).toEqual(
      expect.arrayContaining([
        'RETURNS customer-profiles Customer Order.customer',
        'RETURNS product-catalog Product OrderLine.product',
        'EXTENDS customer-profiles Customer Customer.orders,Customer.orderCount,Customer.lifetimeValue,Customer.ordersConnection',
      ]),
    );
    expect(refs('invoices-payments')).toEqual(
      expect.arrayContaining(['RETURNS order-history Order Invoice.order', 'EXTENDS order-history Order Order.invoice', 'INPUT_PORT order-history']),
    );
    expect(refs('revenue-margin')).toContain('EXTENDS product-catalog Product Product.unitCost,Product.unitMargin');
    expect(product('order-history').lineage.references.find((l: any) => l.entity === 'Customer').key).toBe('id');
    expect(product('customer-profiles').lineage.references).toEqual([]);
    const downstream = product('customer-profiles').lineage.referencedBy.map((l: any) => l.product.id);
    expect(new Set(downstream)).toEqual(new Set(['order-history', 'customer-segments', 'marketing-consent', 'campaign-performance', 'invoices-payments']));
    expect(product('order-history').lineage.referencedBy.map((l: any) => `${l.kind} ${l.product.id}`)).toEqual(
      expect.arrayContaining(['RETURNS invoices-payments', 'EXTENDS invoices-payments', 'INPUT_PORT sales-trends', 'INPUT_PORT invoices-payments']),
    );
    expect(product('sales-trends').inputPorts).toEqual([{ name: 'orders', contractId: 'order-history', product: { id: 'order-history' } }]);
  });

  it('answers dataProduct(id:) and filters by domain, status, search, classification and PII', async () => {
    const { body } = await mesh.query(`{
      one: dataProduct(id: "sales-trends") { id domain }
      none: dataProduct(id: "no-such-product") { id }
      finance: dataProducts(domain: "finance") { id }
      deprecated: dataProducts(status: DEPRECATED) { id }
      search: dataProducts(search: "CONSENT") { id }
      pii: dataProduct(id: "customer-profiles") { fields(pii: true) { coordinate } }
      restricted: dataProduct(id: "invoices-payments") { fields(classification: RESTRICTED) { coordinate } }
    }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.one).toEqual({ id: 'sales-trends', domain: 'sales' });
    expect(body.data.none).toBeNull();
    expect(body.data.finance.map((p: any) => p.id)).toEqual(['invoices-payments', 'revenue-margin']);
    expect(body.data.deprecated).toEqual([]);
    expect(body.data.search.map((p: any) => p.id)).toEqual(['customer-segments', 'marketing-consent']);
    expect(body.data.pii.fields.map((f: any) => f.coordinate)).toEqual(['Customer.lastName', 'Customer.fullName', 'Customer.email', 'Customer.phone', 'Customer.birthDate']);
    expect(body.data.restricted.fields).toHaveLength(outputFields(declared.find((d) => d.product.id === 'invoices-payments')!.product).length);
  });

  it('says where its metadata comes from: every subgraph, reachable', async () => {
    const { body } = await mesh.query('{ dataProductSources { subgraph governed reachable products error url } }');
    expect(body.data.dataProductSources.map((s: any) => [s.subgraph, s.governed, s.reachable, s.products, s.error])).toEqual(
      DOMAINS.map((d) => d.name)
        .sort()
        .map((name) => [name, true, true, declared.filter((d) => d.subgraph === name).length, null]),
    );
    for (const source of body.data.dataProductSources) expect(source.url).toBe(mesh.subgraphs[source.subgraph]!.url.replace(/graphql$/, 'data-products'));
  });

  it('is part of the one schema: the catalog and domain data in one request', async () => {
    const { body } = await mesh.query('{ product(id: "3") { name } dataProduct(id: "product-catalog") { version } }');
    expect(body.errors).toBeUndefined();
    expect(body.data.dataProduct.version).toBe(declared.find((d) => d.product.id === 'product-catalog')!.product.version);
    const introspection = await mesh.query('{ __type(name: "DataProduct") { fields { name } } }');
    expect(introspection.body.data.__type.fields.map((f: any) => f.name)).toEqual(expect.arrayContaining(['id', 'fields', 'lineage', 'quality', 'freshness']));
  });
});

describe('the catalog on any supergraph', () => {
  const REVIEWS = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\ntype Review { stars: Int! }\ntype Query { reviews: [Review!]! }\n';

  it('joins a supergraph with a subgraph outside the governance spec, without ever calling that subgraph', async () => {
    const customers = DOMAINS.find((d) => d.name === 'customers')!;
    const { supergraphSdl } = composeSubgraphs([
      { name: 'customers', url: mesh.subgraphs.customers!.url, typeDefs: parse(readFileSync(customers.schemaPath, 'utf8')) },
      // Nothing listens there: asking it anything would fail the test below.
      { name: 'reviews', url: 'http://127.0.0.1:9/graphql', typeDefs: parse(REVIEWS) },
    ]);
    const gateway = await startGateway({ supergraphSdl, port: 0, config: testConfig(), catalog: { maxAgeMs: 0 } });
    try {
      const { body } = await postGraphQL(gateway.graphqlUrl, '{ dataProducts { id } dataProductSources { subgraph governed reachable error } customer(id: "2") { city } }');
      expect(body.errors).toBeUndefined();
      expect(body.data.dataProducts).toEqual([{ id: 'customer-profiles' }]);
      expect(body.data.dataProductSources).toEqual([
        { subgraph: 'customers', governed: true, reachable: true, error: null },
        { subgraph: 'reviews', governed: false, reachable: null, error: 'classifies no field (does not follow the governance spec): not asked' },
      ]);
      expect(body.extensions).toEqual({ dataProducts: [{ id: 'customer-profiles', version: declared.find((d) => d.product.id === 'customer-profiles')!.product.version }] });
    } finally {
      await gateway.close();
    }
  });

  it('keeps every existing root field on its own subgraph, and refuses a supergraph that already has the catalog\'s names', () => {
    const { supergraphSdl } = composeSubgraphs([{ name: 'reviews', url: 'http://127.0.0.1:9/graphql', typeDefs: parse(REVIEWS) }]);
    const merged = addSubgraphToSupergraph(supergraphSdl, { name: 'catalog', url: 'in-process://catalog', typeDefs: parse(CATALOG_TYPE_DEFS) });
    expect(merged).toMatch(/reviews: \[Review!\]! @join__field\(graph: REVIEWS\)/);
    expect(merged).toMatch(/dataProducts\([\s\S]*?\): \[DataProduct!\]! @join__field\(graph: CATALOG\)/);
    expect(() => addSubgraphToSupergraph(merged, { name: 'catalog', url: 'in-process://catalog', typeDefs: parse(CATALOG_TYPE_DEFS) })).toThrow(
      'the supergraph already has a subgraph named catalog (join__Graph.CATALOG)',
    );
    expect(() => addSubgraphToSupergraph(merged, { name: 'catalog2', url: 'in-process://catalog2', typeDefs: parse(CATALOG_TYPE_DEFS) })).toThrow(/Query\.dataProducts is already defined|type DataProduct is defined both/);
  });
});
