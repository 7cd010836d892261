import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES_FILE } from '../gateway/config/gateway-config.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { parseDescriptors } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { withGovernanceDefinitions } from '../subgraphs/mesh/data-products/governance-directives.js';
import { checkDescriptorsAgainstSchema } from '../subgraphs/mesh/data-products/schema-check.js';
import { replaceOnce } from './helpers/data-products.js';
import { postGraphQL, startMesh, testConfig, token, type TestMesh } from './helpers/mesh.js';

/**
 * Purpose limitation: each data product lists its purposes (descriptor `purposes`, schema
 * `@purposes`); a request declares one (X-Data-Purpose, or the governance file's default,
 * `operations`); fields of a product outside it are refused like unauthorized ones, with
 * PURPOSE_NOT_ALLOWED, before planning.
 */
let mesh: TestMesh;
const asked: { subgraph: string; query: string }[] = [];
let finance: Record<string, string>;
const as = (purpose: string) => ({ ...finance, 'x-data-purpose': purpose });
const codes = (body: { errors?: { extensions?: Record<string, any> }[] }) => (body.errors ?? []).map((e) => e.extensions?.code);

beforeAll(async () => {
  mesh = await startMesh({}, { onSubgraphRequest: (subgraph, body) => asked.push({ subgraph, query: body.query ?? '' }) });
  finance = { authorization: `Bearer ${await token(['customers:pii:read', 'sales:read'], { department: 'finance' })}` };
});
afterAll(() => mesh?.close());

describe('fields of a product outside the request\'s purpose are refused (filter mode)', () => {
  it('refuses invoices to a marketing-purpose request: null, one PURPOSE_NOT_ALLOWED error, finance never asked', async () => {
    asked.length = 0;
    const { status, body } = await mesh.query('{ invoice(id: "1") { number } customer(id: "1") { firstName } }', undefined, as('marketing'));
    expect(status).toBe(200);
    expect(body.data).toEqual({ invoice: null, customer: { firstName: expect.any(String) } });
    expect(body.errors).toEqual([
      {
        message: 'Purpose not allowed: "marketing" is not a purpose of this field\'s data product',
        path: ['invoice'],
        extensions: { code: 'PURPOSE_NOT_ALLOWED', purpose: 'marketing' },
      },
    ]);
    expect(asked.some((a) => a.subgraph === 'finance')).toBe(false);
  });

  it('refuses a field another product adds to an allowed entity, and keeps the rest', async () => {
    const { body } = await mesh.query('{ customer(id: "3") { firstName lifetimeValue outstandingBalance } }', undefined, as('marketing'));
    expect(body.data.customer).toEqual({ firstName: expect.any(String), lifetimeValue: expect.any(Number), outstandingBalance: null });
    expect(body.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([[['customer', 'outstandingBalance'], 'PURPOSE_NOT_ALLOWED']]);
  });

  it('lets the same request through for a purpose the products list, and without a purpose (the default, operations)', async () => {
    const q = '{ invoice(id: "1") { number } customer(id: "3") { outstandingBalance } }';
    for (const headers of [as('finance'), as('operations'), finance]) {
      const { body } = await mesh.query(q, undefined, headers);
      expect(body.errors, JSON.stringify(headers)).toBeUndefined();
      expect(body.data.invoice.number).toMatch(/^INV-/);
    }
  });

  it('reports authorization first: a field both unauthorized and outside the purpose is UNAUTHORIZED_FIELD_OR_TYPE', async () => {
    const anonymous = { 'x-data-purpose': 'marketing' };
    const { body } = await mesh.query('{ customer(id: "3") { phone outstandingBalance } product(id: "1") { unitCost name } }', undefined, anonymous);
    expect(body.errors!.map((e) => [e.path!.join('.'), e.extensions?.code]).sort()).toEqual([
      ['customer.outstandingBalance', 'UNAUTHORIZED_FIELD_OR_TYPE'],
      ['customer.phone', 'UNAUTHORIZED_FIELD_OR_TYPE'],
      ['product.unitCost', 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
    // With the grants, only the purpose is left to refuse (and the non-null unitCost nulls its product).
    const granted = await mesh.query('{ product(id: "1") { unitCost name } }', undefined, as('marketing'));
    expect(granted.body.data.product).toBeNull();
    expect(granted.body.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([[['product', 'unitCost'], 'PURPOSE_NOT_ALLOWED']]);
  });

  it('serves products without purposes (the product catalog) for any purpose, and nothing else for an unknown one', async () => {
    const { body } = await mesh.query('{ product(id: "1") { name } customer(id: "1") { firstName } }', undefined, as('research'));
    expect(body.data).toEqual({ product: { name: expect.any(String) }, customer: null });
    expect(body.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([[['customer'], 'PURPOSE_NOT_ALLOWED']]);
  });

  it('answers a malformed X-Data-Purpose with 400 INVALID_DATA_PURPOSE', async () => {
    for (const purpose of ['Marketing', 'marketing, analytics', 'x'.repeat(65)]) {
      const { status, body } = await mesh.query('{ product(id: "1") { name } }', undefined, { 'x-data-purpose': purpose });
      expect(status, purpose).toBe(400);
      expect(codes(body), purpose).toEqual(['INVALID_DATA_PURPOSE']);
    }
  });
});

describe('in reject and dry_run modes, and with no default purpose', () => {
  const gateways: RunningGateway[] = [];
  afterAll(() => Promise.all(gateways.map((g) => g.close())));
  const start = async (overrides: Parameters<typeof testConfig>[0]) => {
    const g = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig(overrides) });
    gateways.push(g);
    return g;
  };
  // Analytics: a purpose invoices-payments does not list (and, unlike marketing, not consent-governed).
  const q = '{ invoice(id: "1") { number } }';

  it('reject: refuses the whole operation with 403 and the same error', async () => {
    const g = await start({ authorizationMode: 'reject' });
    const { status, body } = await postGraphQL(g.graphqlUrl, q, undefined, as('analytics'));
    expect(status).toBe(403);
    expect(body.data).toBeUndefined();
    expect(codes(body)).toEqual(['PURPOSE_NOT_ALLOWED']);
  });

  it('dry_run: answers in full, with the error that would have been raised', async () => {
    const g = await start({ authorizationMode: 'dry_run' });
    const { body } = await postGraphQL(g.graphqlUrl, q, undefined, as('analytics'));
    expect(body.data.invoice.number).toMatch(/^INV-/);
    expect(codes(body)).toEqual(['PURPOSE_NOT_ALLOWED']);
  });

  it('purposes.default "": every request must declare its purpose to read a product that lists purposes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'purposes-'));
    const file = join(dir, 'policies.yaml');
    writeFileSync(file, replaceOnce(readFileSync(DEFAULT_POLICIES_FILE, 'utf8'), 'default: operations', 'default: ""'));
    const g = await start({ policiesFile: file });
    const without = await postGraphQL(g.graphqlUrl, '{ customer(id: "1") { firstName } product(id: "1") { name } }', undefined, finance);
    expect(without.body.data).toEqual({ customer: null, product: { name: expect.any(String) } });
    expect(without.body.errors![0]).toMatchObject({ message: expect.stringMatching(/needs a declared purpose/), extensions: { code: 'PURPOSE_NOT_ALLOWED', purpose: '' } });
    const declared = await postGraphQL(g.graphqlUrl, '{ customer(id: "1") { firstName } }', undefined, as('operations'));
    expect(declared.body.errors).toBeUndefined();
  });
});

describe('purposes in the catalog', () => {
  it('lists each product\'s purposes, and the purposes each field may be read for', async () => {
    const { body } = await mesh.query(`{
      dataProducts { id purposes }
      dataProduct(id: "invoices-payments") { fields { coordinate purposes } }
    }`);
    const purposes = Object.fromEntries(body.data.dataProducts.map((p: { id: string; purposes: string[] }) => [p.id, p.purposes]));
    expect(purposes['invoices-payments']).toEqual(['operations', 'finance', 'compliance']);
    expect(purposes['campaign-performance']).toContain('marketing');
    expect(purposes['product-catalog']).toEqual([]);
    const fields = body.data.dataProduct.fields as { coordinate: string; purposes: string[] | null }[];
    expect(fields.find((f) => f.coordinate === 'Invoice.total')!.purposes).toEqual(['compliance', 'finance', 'operations']);
    expect(fields.find((f) => f.coordinate === 'Customer.outstandingBalance')!.purposes).toEqual(['compliance', 'finance', 'operations']);
  });
});

describe('declaring purposes', () => {
  const yaml = readFileSync('subgraphs/finance/data-products.yaml', 'utf8');
  const schema = withGovernanceDefinitions(parse(readFileSync('subgraphs/finance/schema.graphql', 'utf8')));

  it('reads them strictly: each error names the file, the line, the product and the key', () => {
    const read = (text: string) => () => parseDescriptors(text, 'finance.yaml');
    expect(read(replaceOnce(yaml, 'purposes: [operations, finance, compliance]', 'purposes: [operations, Finance]'))).toThrow(
      /^finance\.yaml:11: invoices-payments\.purposes\[1\]: "Finance" is not valid: a purpose is lowercase words joined by "-"/,
    );
    expect(read(replaceOnce(yaml, 'purposes: [operations, finance, compliance]', 'purposes: [finance, finance]'))).toThrow(/^finance\.yaml:11: invoices-payments\.purposes\[1\]: duplicate purpose "finance"/);
    expect(read(replaceOnce(yaml, 'purposes: [operations, finance, compliance]', 'purposes: finance'))).toThrow(/^finance\.yaml:11: invoices-payments\.purposes: must be a list/);
    expect(read(replaceOnce(yaml, 'purposes: [operations, finance, compliance]', 'purpose: [finance]'))).toThrow(/invoices-payments\.purpose: unknown key/);
  });

  it('makes descriptor and schema agree: the @purposes that carry them must be the descriptor\'s', () => {
    const check = (text: string) => checkDescriptorsAgainstSchema('finance', parseDescriptors(text, 'finance.yaml'), schema);
    expect(check(yaml)).toEqual([]);
    const contradictions = check(replaceOnce(yaml, 'purposes: [operations, finance, compliance]', 'purposes: [operations, finance, marketing]'));
    expect(contradictions.map((c) => c.coordinate)).toContain('Invoice.total');
    expect(contradictions.find((c) => c.coordinate === 'Invoice.total')!.fix).toContain('@purposes(allowed: ["finance","marketing","operations"])');
  });
});
