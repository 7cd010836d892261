import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClientSchema, getIntrospectionQuery, isObjectType, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeSubgraphs } from '../gateway/composition/compose-supergraph.js';
import { ConfigError } from '../gateway/config/config-error.js';
import { defaultSettings, loadGatewaySettings } from '../gateway/config/gateway-settings.js';
import { buildContracts } from '../gateway/contracts/contracts.js';
import type { ContractSettings } from '../gateway/contracts/contract-settings.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { main as composeMain } from '../gateway/cli/compose.js';
import { runMain } from './helpers/cli.js';
import { fullAccess, postGraphQL, startMesh, testConfig, token, type TestMesh } from './helpers/mesh.js';

const PARTNER: ContractSettings = { include: ['public'], exclude: [], hide_unreachable_types: true, max_classification: 'PUBLIC' };
const contract = (c: Partial<ContractSettings>): ContractSettings => ({ include: [], exclude: [], hide_unreachable_types: false, max_classification: null, ...c });

describe('a contract served by the gateway (/contracts/partner/graphql)', () => {
  let mesh: TestMesh;
  let partner: string;
  const fetched: { subgraph: string; query: string }[] = [];
  beforeAll(async () => {
    const settings = defaultSettings(false);
    settings.contracts = { partner: PARTNER };
    settings.limits.max_aliases = 3;
    mesh = await startMesh({ config: testConfig({ settings }) }, { onSubgraphRequest: (subgraph, body) => void fetched.push({ subgraph, query: body.query ?? '' }) });
    partner = `${mesh.gateway.url}/contracts/partner/graphql`;
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('answers an in-contract query with the same data as the full graph', async () => {
    const query = '{ product(id: "3") { id sku name price category { name } attributes { name value } } categories { id name } }';
    const onContract = await postGraphQL(partner, query);
    expect(onContract.status).toBe(200);
    expect(onContract.body.errors).toBeUndefined();
    expect(onContract.body.data.product).toMatchObject({ id: '3', sku: expect.any(String), name: expect.any(String) });
    expect(onContract.body.data.categories.length).toBeGreaterThan(0);
    expect(onContract.body.data).toEqual((await mesh.query(query)).body.data);
  });

  it('refuses fields outside the contract with GRAPHQL_VALIDATION_FAILED, and never fetches them', async () => {
    fetched.length = 0;
    // Even a caller who may read everything in the full graph.
    const headers = await fullAccess();
    for (const query of ['{ product(id: "3") { name unitCost } }', '{ product(id: "3") { name salesTrend { units } } }', '{ customer(id: "1") { id } }', '{ auditEvents { id } }']) {
      const response = await postGraphQL(partner, query, undefined, headers);
      expect(response.status, query).toBe(400);
      expect(response.body.data, query).toBeUndefined();
      expect(response.body.errors?.[0]?.extensions?.code, query).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    expect(fetched).toEqual([]);
    // The same field on the full graph is fetched: the refusal above is the contract's.
    const full = await mesh.query('{ product(id: "3") { name unitCost } }', undefined, headers);
    expect(full.body.data.product.unitCost).toEqual(expect.any(Number));
    expect(fetched.map((f) => f.subgraph)).toContain('finance');
  });

  it('introspection on the contract path shows only the contract', async () => {
    const query = `{
      product(id: "3") { name }
      __schema { queryType { fields { name } } types { name } }
      __type(name: "Product") { fields { name } }
    }`;
    const { body } = await postGraphQL(partner, query);
    expect(body.errors).toBeUndefined();
    expect(body.data.product.name).toEqual(expect.any(String));
    const productFields = body.data.__type.fields.map((f: { name: string }) => f.name).sort();
    expect(productFields).toEqual(['attributes', 'category', 'currency', 'description', 'id', 'launchedOn', 'name', 'price', 'sku']);
    const rootFields = body.data.__schema.queryType.fields.map((f: { name: string }) => f.name);
    expect(rootFields).toEqual(expect.arrayContaining(['product', 'categories', 'dataProducts']));
    expect(rootFields).not.toContain('customer');
    expect(rootFields).not.toContain('products');
    const types = body.data.__schema.types.map((t: { name: string }) => t.name);
    expect(types).not.toContain('Customer');
    expect(types).not.toContain('Invoice');
    // A type the contract hides is unknown there, though the full graph has it.
    expect((await postGraphQL(partner, '{ __type(name: "Customer") { name } }')).body.data.__type).toBeNull();
    const full = await mesh.query('{ __type(name: "Product") { fields { name } } }');
    expect(full.body.data.__type.fields.map((f: { name: string }) => f.name)).toContain('unitCost');
  });

  it("a client's full introspection query (with fragments) builds the contract's schema", async () => {
    const { body } = await postGraphQL(partner, getIntrospectionQuery());
    expect(body.errors).toBeUndefined();
    const schema = buildClientSchema(body.data);
    const product = schema.getType('Product');
    expect(isObjectType(product) && Object.keys(product.getFields()).sort()).toEqual(['attributes', 'category', 'currency', 'description', 'id', 'launchedOn', 'name', 'price', 'sku']);
    expect(schema.getType('Customer')).toBeUndefined();
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual(['categories', 'dataProduct', 'dataProductSources', 'dataProducts', 'product']);
  });

  it("the catalog on the contract path lists only the contract's fields", async () => {
    const { body } = await postGraphQL(partner, '{ dataProducts { id rootFields fields { coordinate classification } } }');
    expect(body.errors).toBeUndefined();
    const products = body.data.dataProducts as { id: string; rootFields: string[]; fields: { coordinate: string; classification: string }[] }[];
    expect(products.length).toBeGreaterThan(0);
    const coordinates = products.flatMap((p) => p.fields.map((f) => f.coordinate));
    expect(coordinates).toContain('Product.name');
    // The product catalog's types (its connection types included: tagged public), never another domain's.
    for (const c of coordinates) expect(c).toMatch(/^(Product|Category|ProductAttribute|ProductConnection|ProductEdge|PageInfo)\.|^Query\.(product|categories)$/);
    expect(coordinates).toContain('Category.productsConnection');
    for (const p of products) for (const f of p.fields) expect(f.classification).toBe('PUBLIC');
    // The full graph's catalog has the other products too.
    const full = await mesh.query('{ dataProducts { id } }');
    expect(full.body.data.dataProducts.length).toBeGreaterThan(products.length);
  });

  it("the gateway's request limits apply on the contract path", async () => {
    const response = await postGraphQL(partner, '{ a: categories { id } b: categories { id } c: categories { id } d: categories { id } }');
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('MAX_ALIASES_LIMIT');
  });

  it('serves the explorer on the contract path, pointed at the contract endpoint', async () => {
    const response = await fetch(partner, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('/contracts/partner/graphql');
    expect(html).toContain('partner contract');
  });

  it('an unknown contract path is a 404', async () => {
    const response = await fetch(`${mesh.gateway.url}/contracts/nobody/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('NOT_FOUND');
  });
});

describe('a contract with protected fields, across hot reloads', () => {
  // Everything but what is tagged `public`: customers' protected fields stay in, and stay protected.
  const settings = defaultSettings(false);
  settings.contracts = { internal: contract({ exclude: ['public'] }), partner: PARTNER };
  let mesh: TestMesh;
  let gateway: RunningGateway;
  let dir: string;
  let file: string;
  const url = (name: string) => `${gateway.url}/contracts/${name}/graphql`;
  const fieldsOf = async (name: string, type: string) => {
    const { body } = await postGraphQL(url(name), `{ __type(name: "${type}") { fields { name } } }`);
    return ((body.data?.__type?.fields ?? []) as { name: string }[]).map((f) => f.name);
  };
  /** Replaces the file as deploys do (write aside, rename over), and waits for the gateway's verdict. */
  const publish = async (sdl: string) => {
    const outcome = gateway.reloads.next();
    writeFileSync(`${file}.next`, sdl);
    renameSync(`${file}.next`, file);
    return outcome;
  };
  beforeAll(async () => {
    mesh = await startMesh();
    dir = mkdtempSync(join(tmpdir(), 'contracts-reload-'));
    file = join(dir, 'supergraph.graphql');
    writeFileSync(file, mesh.supergraphSdl);
    gateway = await startGateway({ supergraphSdl: mesh.supergraphSdl, watch: { path: file }, port: 0, config: testConfig({ settings }) });
  });
  afterAll(async () => {
    await gateway?.close();
    await mesh?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('authorization applies on a contract path as on /graphql', async () => {
    const query = '{ customer(id: "42") { id email } }';
    const anonymous = await postGraphQL(url('internal'), query);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data.customer).toEqual({ id: '42', email: null });
    expect(anonymous.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    const allowed = await postGraphQL(url('internal'), query, undefined, { authorization: `Bearer ${await token(['customers:pii:read'])}` });
    expect(allowed.body.errors).toBeUndefined();
    expect(allowed.body.data.customer.email).toEqual(expect.any(String));
    // And the contract's filter: Product.name is tagged public, so the internal contract has no such field.
    expect(await fieldsOf('internal', 'Product')).not.toContain('name');
  });

  it('a reload rebuilds every contract from the new supergraph', async () => {
    expect(await fieldsOf('partner', 'Product')).toContain('launchedOn');
    const withoutLaunchedOn = mesh.supergraphSdl.replace(/\n\s*"""Date the product was added to the catalog, ISO-8601."""\n\s*launchedOn: String![^\n]*/, '');
    expect(withoutLaunchedOn).not.toBe(mesh.supergraphSdl);
    expect(await publish(withoutLaunchedOn)).toBe('reloaded');
    expect(await fieldsOf('partner', 'Product')).not.toContain('launchedOn');
    expect(await publish(mesh.supergraphSdl)).toBe('reloaded');
    expect(await fieldsOf('partner', 'Product')).toContain('launchedOn');
  });

  it('a reload that would break a contract is refused, and the contract keeps serving', async () => {
    // Without its public tags the partner contract's Query root is empty.
    const untagged = mesh.supergraphSdl.replaceAll(' @tag(name: "public")', '');
    expect(untagged).not.toBe(mesh.supergraphSdl);
    expect(await publish(untagged)).toBe('refused');
    const { status, body } = await postGraphQL(url('partner'), '{ product(id: "3") { name } }');
    expect(status).toBe(200);
    expect(body.data.product.name).toEqual(expect.any(String));
  });
});

describe('contracts are checked at composition', () => {
  // Two small subgraphs: Product tagged `public` as a whole in one, a RESTRICTED field added by the other.
  const supergraph = Supergraph.fromSdl(
    composeSubgraphs([
      {
        name: 'catalogue',
        url: 'http://localhost:1/graphql',
        typeDefs: parse(`
          extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag", "@composeDirective"])
            @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification"]) @composeDirective(name: "@classification")
          type Product @key(fields: "id") @tag(name: "public") { id: ID! @classification(level: PUBLIC) name: String! @classification(level: PUBLIC) }
          type Query {
            product(id: ID!): Product @classification(level: PUBLIC) @tag(name: "public")
            internalNote: String @classification(level: INTERNAL) @tag(name: "internal")
          }`),
      },
      {
        name: 'costing',
        url: 'http://localhost:2/graphql',
        typeDefs: parse(`
          extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag", "@composeDirective"])
            @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification"]) @composeDirective(name: "@classification")
          type Product @key(fields: "id") { id: ID! cost: Float! @classification(level: RESTRICTED) @tag(name: "internal") }`),
      },
    ]).supergraphSdl,
  );
  const fails = (contracts: Record<string, ContractSettings>) => {
    try {
      buildContracts(supergraph, contracts, 'gateway/gateway.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the contract was accepted');
  };

  it('a PUBLIC-only contract that would expose a RESTRICTED field fails, naming it', () => {
    // The type's tag includes every field of Product, the other subgraph's cost too.
    const message = fails({ partner: contract({ include: ['public'], max_classification: 'PUBLIC' }) });
    expect(message).toContain('gateway/gateway.yaml: contracts.partner');
    expect(message).toContain('Product.cost is RESTRICTED, above max_classification PUBLIC');
    // Excluding it by its tag fixes the contract.
    const fixed = buildContracts(supergraph, { partner: contract({ include: ['public'], exclude: ['internal'], max_classification: 'PUBLIC' }) }, 'gateway/gateway.yaml');
    expect([...fixed.get('partner')!.fields].sort()).toEqual(['Product.id', 'Product.name', 'Query.product']);
  });

  it('a tag no element carries fails (a typo would expose or hide everything)', () => {
    const message = fails({ partner: contract({ exclude: ['intrenal'] }) });
    expect(message).toContain('contracts.partner.exclude');
    expect(message).toContain('"intrenal"');
    expect(message).toContain('tags in the supergraph: internal, public');
  });

  it('a contract whose Query root would be empty fails', () => {
    const message = fails({ empty: contract({ exclude: ['public', 'internal'] }) });
    expect(message).toContain('contracts.empty');
    expect(message).toContain('no Query field');
  });

  it('removes fields whose type the contract removed, and types left without fields', () => {
    const built = buildContracts(supergraph, { noproduct: contract({ exclude: ['public'] }) }, 'gateway/gateway.yaml').get('noproduct')!;
    // Product is excluded as a type: Query.product (it returns Product) goes with it.
    expect(built.schema.getType('Product')).toBeUndefined();
    expect(Object.keys(built.schema.getQueryType()!.getFields())).toEqual(['internalNote']);
  });

  // The compose CLI's main in this process (compose.test.ts runs the real process), with the
  // settings file from the environment as a user's shell would set it.
  it('npm run compose fails on a broken contract and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'contracts-compose-'));
    try {
      const settingsFile = join(dir, 'gateway.yaml');
      writeFileSync(settingsFile, 'contracts:\n  everything:\n    exclude: [internal]\n    max_classification: PUBLIC\n');
      const output = join(dir, 'supergraph.graphql');
      vi.stubEnv('GATEWAY_CONFIG', settingsFile);
      const result = await runMain(composeMain, ['--output', output]);
      vi.unstubAllEnvs();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('contracts.everything.exclude: no schema element carries @tag "internal"');
      expect(existsSync(output)).toBe(false);
      // The repository's own gateway.yaml: the partner contract holds.
      vi.stubEnv('GATEWAY_CONFIG', undefined);
      const ok = await runMain(composeMain, ['--output', output]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/contract partner: \d+ fields, served at \/contracts\/partner\/graphql/);
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gateway.yaml names the key of a badly declared contract', () => {
    const dir = mkdtempSync(join(tmpdir(), 'contracts-settings-'));
    try {
      const file = join(dir, 'gateway.yaml');
      writeFileSync(file, 'contracts:\n  partner:\n    include: [public]\n    max_classification: SECRET\n');
      expect(() => loadGatewaySettings(file)).toThrow(/contracts\.partner\.max_classification: "SECRET" is not one of/);
      writeFileSync(file, 'contracts:\n  Partner/x:\n    include: [public]\n');
      expect(() => loadGatewaySettings(file)).toThrow(/contracts\.Partner\/x: not a valid name/);
      writeFileSync(file, 'contracts:\n  partner:\n    includes: [public]\n');
      expect(() => loadGatewaySettings(file)).toThrow(/contracts\.partner\.includes: unknown setting/);
      writeFileSync(file, 'contracts:\n  partner:\n    include: [public]\n    max_classification: PUBLIC\n');
      expect(loadGatewaySettings(file).contracts.partner).toEqual(PARTNER_WITHOUT_HIDING);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const PARTNER_WITHOUT_HIDING: ContractSettings = { ...PARTNER, hide_unreachable_types: false };
