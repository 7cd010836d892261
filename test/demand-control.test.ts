import { buildASTSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUERIES } from '../bench/queries.js';
import { defaultSettings, type GatewaySettings } from '../gateway/config/gateway-settings.js';
import { ActualCost } from '../gateway/demand-control/actual-cost.js';
import { CostEstimator } from '../gateway/demand-control/cost-estimator.js';
import { CEILING, CostIndex, directiveNames } from '../gateway/demand-control/cost-index.js';
import { EXAMPLE_QUERY } from '../gateway/explorer/example-query.js';
import { shapeOperation } from '../gateway/operation/operation-shape.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { fullAccess, postGraphQL, startMesh, testConfig, token, type TestMesh } from './helpers/mesh.js';

/** Router's documentation example schema, plus the cases the estimator must get right. */
const SDL = /* GraphQL */ `
  directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
  directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION

  type Query {
    book(id: ID): Book
    bestsellers: [Book] @listSize(assumedSize: 5)
    newestAdditions(after: ID, limit: Int!): [Book] @listSize(slicingArguments: ["limit"])
    search(first: Int = 7): [Book] @listSize(slicingArguments: ["first"], assumedSize: 50, requireOneSlicingArgument: false)
    strict(first: Int, last: Int): [Book] @listSize(slicingArguments: ["first", "last"])
    paged(input: PageInput): [Book] @listSize(slicingArguments: ["input.first"], requireOneSlicingArgument: false)
    books: [Book]
    container(first: Int): ResultContainer @listSize(slicingArguments: ["first"], sizedFields: ["page"], requireOneSlicingArgument: false)
    expensive: Int @cost(weight: 7)
    filtered(where: Filter): [Book] @listSize(assumedSize: 2)
    node: Node
  }
  type Mutation { doSomething: Int }
  type Book { title: String author: Author publisher: Publisher }
  type Author { name: String books: [Book] }
  type Publisher { name: String address: Address }
  type Address @cost(weight: 5) { zipCode: Int! }
  type ResultContainer { page: [Book] recent: [Book] metadata: String }
  interface Node { id: ID! }
  type Shelf implements Node { id: ID! books: [Book] @listSize(assumedSize: 3) }
  type Reader implements Node { id: ID! favourite: Book }
  input Filter { title: String }
  input PageInput { first: Int }
`;

const BOOK = 'title author { name } publisher { name address { zipCode } }';

function tiny(listSize = 10) {
  const document = parse(SDL);
  const schema = buildASTSchema(document);
  const estimator = new CostEstimator(new CostIndex(document, schema), listSize);
  const plan = (query: string) => {
    const shape = shapeOperation(schema, parse(query), null);
    return { shape, plan: estimator.compile(shape) };
  };
  const estimate = (query: string, variables: Record<string, unknown> = {}) => plan(query).plan.estimate(variables);
  return { estimator, plan, estimate, index: estimator.index };
}

describe('static estimate (Router static_estimated, IBM cost spec) on a tiny schema', () => {
  const { estimate, plan, index } = tiny();

  it("matches Router's documented examples: @cost on a type, assumedSize, a slicing argument", () => {
    expect(estimate(`{ book(id: 1) { ${BOOK} } }`).cost).toBe(8); // 1 book + 1 author + 1 publisher + 5 address
    expect(estimate(`{ bestsellers { ${BOOK} } }`).cost).toBe(40); // 5 × 8
    expect(estimate(`{ newestAdditions(limit: 3) { ${BOOK} } }`).cost).toBe(24);
    expect(estimate(`{ newestAdditions(limit: 7) { ${BOOK} } }`).cost).toBe(56);
  });

  it('scalars and enums cost 0, @cost overrides a field, a mutation costs 10, __typename nothing', () => {
    expect(estimate('{ book { title __typename } }').cost).toBe(1);
    expect(estimate('{ expensive }').cost).toBe(7);
    expect(estimate('mutation { doSomething }').cost).toBe(10);
    expect(estimate('{ __typename }').cost).toBe(0);
  });

  it('a list without @listSize takes the configured list_size', () => {
    expect(estimate('{ books { author { name } } }').cost).toBe(20); // 10 × (book 1 + author 1)
    expect(tiny(3).estimate('{ books { author { name } } }').cost).toBe(6);
  });

  it('a slicing argument given as a variable: compiled once, estimated per request', () => {
    const { plan: p } = plan(`query Q($n: Int!) { newestAdditions(limit: $n) { ${BOOK} } }`);
    expect(p.constant).toBeNull();
    expect(p.estimate({ n: 3 }).cost).toBe(24);
    expect(p.estimate({ n: 7 }).cost).toBe(56);
    expect(p.estimate({ n: 1000 }).cost).toBe(8000);
    expect(p.estimate({ n: -5 }).cost).toBe(0); // never a negative size
  });

  it("an absent slicing argument takes its default; an absent variable the variable's or argument's default; null the assumedSize", () => {
    expect(estimate('{ search { author { name } } }').cost).toBe(14); // first = 7
    expect(estimate('query Q($n: Int) { search(first: $n) { author { name } } }').cost).toBe(14);
    expect(estimate('query Q($n: Int = 2) { search(first: $n) { author { name } } }').cost).toBe(4);
    expect(estimate('query Q($n: Int) { search(first: $n) { author { name } } }', { n: null }).cost).toBe(100); // assumedSize 50
    expect(estimate('{ search(first: null) { author { name } } }').cost).toBe(100);
  });

  it('a slicing argument inside an input object, literal or variable', () => {
    expect(estimate('{ paged(input: { first: 4 }) { author { name } } }').cost).toBe(8 + 1); // + 1 for the input object
    expect(estimate('query Q($p: PageInput) { paged(input: $p) { author { name } } }', { p: { first: 6 } }).cost).toBe(12 + 1);
  });

  it('requireOneSlicingArgument: none or two slicing arguments is a violation, one is not', () => {
    expect(estimate('{ strict(first: 2) { title } }').violation).toBeNull();
    expect(estimate('{ strict(first: 2, last: 3) { title } }').violation).toMatch(/Exactly one slicing argument is required on Query.strict, but found 2/);
    expect(estimate('{ strict { title } }').violation).toMatch(/but found 0/);
    const { plan: p } = plan('query Q($f: Int) { strict(first: $f) { title } }');
    expect(p.estimate({ f: 3 }).violation).toBeNull();
    expect(p.estimate({}).violation).toMatch(/but found 0/);
  });

  it('sizedFields: the slicing argument sizes the named list of the returned object, the others take list_size', () => {
    // container 1 + page 4 × 1 + recent 10 × 1
    expect(estimate('{ container(first: 4) { page { title } recent { title } metadata } }').cost).toBe(15);
    // through a named fragment too
    expect(estimate('{ container(first: 4) { ...C } } fragment C on ResultContainer { page { title } }').cost).toBe(5);
  });

  it('@skip(if: true) / @include(if: false) written literally cost nothing; with a variable they count', () => {
    expect(estimate('{ expensive @skip(if: true) book { title } }').cost).toBe(1);
    expect(estimate('{ ... @include(if: false) { expensive } }').cost).toBe(0);
    expect(estimate('query Q($x: Boolean!) { expensive @include(if: $x) }', { x: false }).cost).toBe(7);
  });

  it('an input object argument costs 1 plus its fields (Router)', () => {
    expect(estimate('{ filtered(where: { title: "x" }) { title } }').cost).toBe(2 + 1);
    expect(estimate('query Q($w: Filter) { filtered(where: $w) { title } }', { w: { title: 'x' } }).cost).toBe(3);
    expect(estimate('query Q($w: Filter) { filtered(where: $w) { title } }', { w: null }).cost).toBe(2);
  });

  it('fragments on an abstract type add every type branch, as Router does (an upper bound)', () => {
    // node 1 + Shelf.books 3 × 1 + Reader.favourite 1
    expect(estimate('{ node { id ... on Shelf { books { title } } ... on Reader { favourite { title } } } }').cost).toBe(5);
  });

  it('a fragment spread twice per level over 30 levels costs milliseconds and a finite estimate', () => {
    const levels = 30;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Book { author { books { ...F${i + 1} ...F${i + 1} } } }`).join('\n');
    const query = `{ book { ...F0 } }\n${fragments}\nfragment F${levels} on Book { title }`;
    const started = performance.now();
    const { shape, plan: p } = plan(query);
    const { cost } = p.estimate();
    const actual = new ActualCost(index, shape, p).of({ book: { author: { books: [{ author: null }, { author: { books: [] } }] } } });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(200);
    expect(Number.isFinite(cost)).toBe(true);
    expect(cost).toBe(CEILING); // (10 × 2)^30: saturated, never Infinity or NaN
    expect(actual).toBe(5); // book, author, 2 books, the second one's author
  });

  it('saturates instead of overflowing: nested huge slicing arguments stay finite', () => {
    const deep = `{ newestAdditions(limit: 2000000000) { ${'author { books { '.repeat(8)} title ${'} } '.repeat(8)} } }`;
    expect(estimate(deep).cost).toBe(CEILING);
  });

  it('finds @cost and @listSize by their linked names: renamed, imported or qualified', () => {
    const names = (link: string) => directiveNames(parse(`schema ${link} { query: Query } type Query { a: Int }`));
    expect(names('@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])')).toEqual({ cost: 'cost', listSize: 'listSize' });
    expect(names('@link(url: "https://specs.apollo.dev/cost/v0.1")')).toEqual({ cost: 'cost', listSize: 'cost__listSize' });
    expect(names('@link(url: "https://specs.apollo.dev/cost/v0.1", as: "price", import: [{ name: "@listSize", as: "@size" }])')).toEqual({ cost: 'price', listSize: 'size' });
    expect(names('@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])')).toEqual({ cost: 'federation__cost', listSize: 'federation__listSize' });
    expect(names('@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@cost", "@listSize"])')).toEqual({ cost: 'cost', listSize: 'listSize' });
  });

  it('actual cost counts what came back: real list lengths, the same weights, never above the estimate', () => {
    const query = `{ bestsellers { ${BOOK} } }`;
    const { shape, plan: p } = plan(query);
    const book = { title: 't', author: { name: 'a' }, publisher: { name: 'p', address: { zipCode: 1 } } };
    const actual = new ActualCost(index, shape, p).of({ bestsellers: [book, book, { ...book, publisher: null }] });
    expect(actual).toBe(8 + 8 + 2); // the third book has no publisher (and so no address)
    expect(actual).toBeLessThanOrEqual(p.estimate().cost);
  });
});

describe('the supergraph carries the domains’ @cost and @listSize', () => {
  it('composition keeps them under the cost spec link; the index reads them by those names', async () => {
    const { readFileSync } = await import('node:fs');
    const supergraph = Supergraph.fromSdl(readFileSync('supergraph.graphql', 'utf8'));
    expect(supergraph.sdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/cost\/v0\.1"/);
    const index = new CostIndex(supergraph.document, supergraph.schema);
    expect(index.names).toEqual({ cost: 'cost', listSize: 'listSize' });
    expect(index.listSize('Query.products')).toMatchObject({ slicingArguments: [['first']], assumedSize: 500, requireOneSlicingArgument: false });
    expect(index.listSize('Product.salesTrend')).toMatchObject({ slicingArguments: [['last']] });
    expect(index.listSize('Order.lines')).toMatchObject({ assumedSize: 5, slicingArguments: null });
    const field = (type: string, name: string) => (supergraph.schema.getType(type) as import('graphql').GraphQLObjectType).getFields()[name]!;
    expect(index.fieldWeight('Query', field('Query', 'salesTrends'))).toBe(2);
    expect(index.fieldWeight('Query', field('Query', 'campaign'))).toBe(5); // Campaign @cost(weight: 5)
    expect(index.fieldWeight('Product', field('Product', 'unitsSold'))).toBe(20);
  });
});

const FAN_OUT = '{ products(first:500){ category { products(first:100){ category { products(first:100){ name } } } } } }';
/** Bounded (50 customers, at most 100 orders each) but over the default max. */
const EXPENSIVE_BUT_BOUNDED = '{ customers(first: 50) { id orders(first: 100) { id lines { quantity product { name } } } } }';
const COST_HEADER = { 'x-cost-extensions': 'true' };

function settingsWith(demand: Partial<GatewaySettings['demand_control']>): GatewaySettings {
  const settings = defaultSettings();
  return { ...settings, demand_control: { ...settings.demand_control, ...demand } };
}

describe('demand control in the gateway (real gateway and subgraphs)', () => {
  let mesh: TestMesh;
  const max = defaultSettings().demand_control.strategy.static_estimated.max;
  const served = () => Object.values(mesh.subgraphs).reduce((sum, s) => sum + s.requestsServed(), 0);

  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('refuses the anonymous fan-out with 400 COST_ESTIMATED_TOO_EXPENSIVE before any subgraph is contacted', async () => {
    const before = served();
    const { status, body } = await mesh.query(FAN_OUT);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    const error = body.errors![0]!;
    expect(error.extensions!.code).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    expect(error.extensions!['cost.estimated']).toBe(5_101_000);
    expect(error.extensions!['cost.max']).toBe(max);
    expect(error.extensions!.cost).toEqual({ estimated: 5_101_000, max });
    expect(error.message).toBe(`query estimated cost 5101000 exceeded configured maximum ${max}`);
    expect(served()).toBe(before);
  });

  it('runs a modest query; with x-cost-extensions: true it reports extensions.cost, estimated ≥ actual', async () => {
    const query = '{ products(first: 5) { name category { name } attributes { name value } } }';
    const plain = await mesh.query(query);
    expect(plain.status).toBe(200);
    expect(plain.body.errors).toBeUndefined();
    expect(plain.body.extensions?.cost).toBeUndefined();
    const { status, body } = await mesh.query(query, undefined, COST_HEADER);
    expect(status).toBe(200);
    expect(body.data.products).toHaveLength(5);
    const cost = body.extensions!.cost;
    expect(cost).toMatchObject({ estimated: 5 * (1 + 1 + 3), max, mode: 'enforce' });
    // 5 products + 5 categories + their 2–3 attributes each
    const attributes = body.data.products.reduce((n: number, p: { attributes: unknown[] }) => n + p.attributes.length, 0);
    expect(cost.actual).toBe(5 + 5 + attributes);
    expect(cost.estimated).toBeGreaterThanOrEqual(cost.actual);
  });

  it('identical requests in flight share an answer only if they agree on x-cost-extensions', async () => {
    const query = '{ categories { name products(first: 2) { name } } }';
    const [asked, plain] = await Promise.all([mesh.query(query, undefined, COST_HEADER), mesh.query(query)]);
    expect(asked.body.extensions?.cost).toMatchObject({ estimated: 8 * (1 + 2) });
    expect(plain.body.extensions?.cost).toBeUndefined();
  });

  it('variables used as slicing arguments change the estimate of one operation', async () => {
    const wide = QUERIES.find((q) => q.id === 'wide')!;
    const auth = await fullAccess();
    const cost = async (first: number) => (await mesh.query(wide.query, { first }, { ...auth, ...COST_HEADER })).body.extensions!.cost;
    const ten = await cost(10);
    const hundred = await cost(100);
    expect(ten.estimated).toBe(340); // 10 × (customer 1 + 3 orders × (order 1 + 5 lines × (line 1 + product 1)))
    expect(hundred.estimated).toBe(3_400);
    expect(hundred.actual).toBeLessThanOrEqual(hundred.estimated);
    expect(hundred.actual).toBeGreaterThan(ten.actual);
  });

  it('passes the explorer example and every benchmark query under the default max, with a 4x margin', async () => {
    const auth = await fullAccess();
    const sent = [
      { id: 'explorer example', query: EXAMPLE_QUERY, variables: {}, operationName: 'CustomerOverview' },
      ...QUERIES.map((q) => ({ id: q.id, query: q.query, variables: q.variables, operationName: q.operationName })),
    ];
    for (const q of sent) {
      const response = await postGraphQL(mesh.gateway.graphqlUrl, q.query, q.variables, { ...auth, ...COST_HEADER });
      expect(response.status, q.id).toBe(200);
      expect(response.body.errors, q.id).toBeUndefined();
      const { estimated, actual } = response.body.extensions!.cost;
      expect(estimated * 4, q.id).toBeLessThanOrEqual(max);
      expect(actual, q.id).toBeLessThanOrEqual(estimated);
    }
  });

  describe('measure mode, extensions by setting', () => {
    let measured: RunningGateway;
    beforeAll(async () => {
      measured = await startGateway({
        supergraphSdl: mesh.supergraphSdl,
        port: 0,
        config: testConfig({ settings: settingsWith({ mode: 'measure', expose_in_extensions: true }) }),
      });
    });
    afterAll(async () => {
      await measured?.close();
    });

    it('runs an expensive-but-bounded operation over the max and logs its estimated and actual cost', async () => {
      const lines: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }) as typeof process.stderr.write);
      let response;
      try {
        response = await postGraphQL(measured.graphqlUrl, EXPENSIVE_BUT_BOUNDED, undefined, { authorization: `Bearer ${await token()}` });
      } finally {
        spy.mockRestore();
      }
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.customers).toHaveLength(50);
      const cost = response.body.extensions!.cost;
      expect(cost.mode).toBe('measure');
      expect(cost.estimated).toBe(50 * (1 + 100 * (1 + 5 * 2)));
      expect(cost.estimated).toBeGreaterThan(max);
      expect(cost.actual).toBeGreaterThan(50);
      expect(cost.actual).toBeLessThanOrEqual(cost.estimated);
      const json = lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
      const logged = json.find((l) => String(l.message).startsWith('cost over max'));
      expect(logged).toMatchObject({ level: 'warn', component: 'gateway', estimated: cost.estimated, actual: cost.actual, max, mode: 'measure' });
    });

    it('with expose_in_extensions every response carries extensions.cost, no header needed', async () => {
      const { body } = await postGraphQL(measured.graphqlUrl, '{ categories { name } }');
      expect(body.extensions!.cost).toMatchObject({ estimated: 8, mode: 'measure', max });
      expect(body.extensions!.cost.actual).toBe(body.data.categories.length);
    });
  });
});
