import {
  getNamedType,
  getNullableType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLObjectType,
} from 'graphql';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostIndex } from '../gateway/demand-control/cost-index.js';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { IDENTITY_HEADER, IdentitySigner } from '../subgraphs/mesh/identity.js';
import { fullAccess, startMesh, TEST_SIGNING_KEY, token, type GraphQLResponse, type TestMesh } from './helpers/mesh.js';

/**
 * Paging never silently lies (issue 13): every connection in the supergraph, found generically,
 * reads to its end with its cursors (each row once, in the order of its plain list, as many rows
 * as the source holds), states its maximum `first` in its description and `@listSize`, and
 * enforces it; bad cursors are BAD_USER_INPUT; a region-restricted caller's pages hold only its
 * region, whatever cursor it sends.
 */
let mesh: TestMesh;
let supergraph: Supergraph;
let costs: CostIndex;

interface ConnectionField {
  coordinate: string;
  parent: string;
  field: GraphQLField<unknown, unknown>;
  node: GraphQLObjectType;
}

/** How to reach a parent of each type that has connections (customer 5 has 113 orders). */
const REACH: Record<string, { open: string; close: string; path: string[] }> = {
  Query: { open: '', close: '', path: [] },
  Customer: { open: 'customer(id: "5") {', close: '}', path: ['customer'] },
  Campaign: { open: 'campaign(id: "3") {', close: '}', path: ['campaign'] },
  Category: { open: 'product(id: "1") { category {', close: '} }', path: ['product', 'category'] },
};
/** Connections over more rows than their maximum page: the source's count, for "read to its end". */
const TOTALS: Record<string, (m: TestMesh) => number> = {
  'Query.customersConnection': (m) => count(m, 'customers', 'SELECT COUNT(*) AS n FROM customers'),
  'Query.productsConnection': (m) => count(m, 'products', 'SELECT COUNT(*) AS n FROM products'),
  'Customer.ordersConnection': (m) => count(m, 'sales', 'SELECT COUNT(*) AS n FROM orders WHERE customer_id = 5'),
  'Customer.invoicesConnection': (m) => count(m, 'finance', 'SELECT COUNT(*) AS n FROM invoices WHERE customer_id = 5'),
  'Category.productsConnection': (m) => count(m, 'products', 'SELECT COUNT(*) AS n FROM products WHERE category_id = (SELECT category_id FROM products WHERE id = 1)'),
};
const count = (m: TestMesh, domain: string, sql: string) => (m.database(domain).prepare(sql).get() as { n: number }).n;

async function headersFor(c: ConnectionField, claims: Record<string, unknown> = {}): Promise<Record<string, string>> {
  // Campaign responses need the marketing purpose and a marketing department (policy marketing_purpose).
  if (c.node.name === 'CampaignResponse') {
    const t = await token(['customers:pii:read', 'sales:read', 'marketing:consent:read'], { department: 'marketing', ...claims });
    return { authorization: `Bearer ${t}`, 'x-data-purpose': 'marketing' };
  }
  return fullAccess(claims);
}

/** The node's own scalar and enum fields without required arguments: what the walk compares. */
function scalars(type: GraphQLObjectType): string {
  return Object.values(type.getFields())
    .filter((f) => (isScalarType(getNamedType(f.type)) || isEnumType(getNamedType(f.type))) && f.args.every((a) => !isNonNullType(a.type)))
    .map((f) => f.name)
    .join(' ');
}

/** The parent a connection is read on: REACH, or for a customer's responses the customer with the most visible ones. */
let responder = 0;
function reachOf(c: ConnectionField): { open: string; close: string; path: string[] } {
  if (c.coordinate === 'Customer.campaignResponsesConnection') return { ...REACH.Customer!, open: `customer(id: "${responder}") {` };
  return REACH[c.parent]!;
}

function connectionQuery(c: ConnectionField, args = 'first: $first, after: $after'): string {
  const reach = reachOf(c);
  return `query Page($first: Int, $after: String) { ${reach.open} ${c.field.name}(${args}) {
    edges { cursor node { ${scalars(c.node)} } } nodes { ${scalars(c.node)} }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } ${reach.close} }`;
}

const at = (data: any, c: ConnectionField) => [...reachOf(c).path, c.field.name].reduce((v, k) => v?.[k], data);

/** The largest `first` the field's description states ("at most N"). */
const statedMax = (c: ConnectionField) => Number(/at most (\d+)/.exec(c.field.description ?? '')?.[1]);

/** The connections of the committed supergraph (the test mesh composes the same, checked below). */
function findConnections(sdl: string): ConnectionField[] {
  const found: ConnectionField[] = [];
  for (const type of Object.values(Supergraph.fromSdl(sdl).schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const target = getNullableType(field.type);
      if (!isObjectType(target) || !target.getFields().pageInfo || !target.getFields().edges) continue;
      const node = getNamedType(target.getFields().nodes!.type) as GraphQLObjectType;
      found.push({ coordinate: `${type.name}.${field.name}`, parent: type.name, field, node });
    }
  }
  return found;
}
const connections = findConnections(readFileSync('supergraph.graphql', 'utf8'));
/** Walking a list of thousands of rows page by page on a loaded 2-core machine. */
const WALK_TIMEOUT_MS = 120_000;

beforeAll(async () => {
  mesh = await startMesh();
  supergraph = Supergraph.fromSdl(mesh.supergraphSdl);
  costs = new CostIndex(supergraph.document, supergraph.schema);
  // Under the marketing purpose a response needs its channel's consent (row-level rules).
  responder = (
    mesh
      .database('marketing')
      .prepare(
        `SELECT r.customer_id AS id, COUNT(*) AS n FROM campaign_responses r JOIN campaigns c ON c.id = r.campaign_id
         JOIN customer_scope s ON s.customer_id = r.customer_id
         WHERE (CASE c.channel WHEN 'EMAIL' THEN s.email_opt_in WHEN 'SMS' THEN s.sms_opt_in ELSE s.profiling_opt_in END) = 1
         GROUP BY r.customer_id ORDER BY n DESC, r.customer_id LIMIT 1`,
      )
      .get() as { id: number }
  ).id;
});
afterAll(() => mesh?.close());

describe('every connection of the supergraph', () => {
  it('is found (the same in the composed and the committed supergraph), and the test knows how to reach each one', () => {
    expect(findConnections(mesh.supergraphSdl).map((c) => c.coordinate)).toEqual(connections.map((c) => c.coordinate));
    expect(connections.map((c) => c.coordinate).sort()).toEqual(
      expect.arrayContaining(['Customer.ordersConnection', 'Query.customersConnection', 'Query.productsConnection', 'Category.productsConnection', 'Customer.invoicesConnection']),
    );
    for (const c of connections) expect(REACH[c.parent], `${c.coordinate}: add its parent type to REACH`).toBeDefined();
  });

  it('states its maximum first in its description and @listSize, sized by first over edges and nodes', () => {
    for (const c of connections) {
      const rule = costs.listSize(c.coordinate);
      expect(rule, c.coordinate).toBeDefined();
      expect(rule!.slicingArguments, c.coordinate).toEqual([['first']]);
      expect([...rule!.sizedFields!.leaves].sort(), c.coordinate).toEqual(['edges', 'nodes']);
      expect(statedMax(c), `${c.coordinate} description says "at most N"`).toBe(rule!.assumedSize);
      const first = c.field.args.find((a) => a.name === 'first')!;
      expect(first.defaultValue, `${c.coordinate}(first:) has a default`).toEqual(expect.any(Number));
      expect(isListType(getNullableType(c.field.type)), c.coordinate).toBe(false);
    }
  });

  it.each(connections.map((c) => [c.coordinate, c] as const))('%s reads to its end: each row once, the plain list\'s rows in its order, as many as the source holds', async (_, c) => {
    {
      const headers = await headersFor(c);
      const max = statedMax(c);
      // The plain list beside it (same name without "Connection"), asked for its maximum.
      const listName = c.field.name.replace(/Connection$/, '');
      const reach = reachOf(c);
      const list = await mesh.query(`{ ${reach.open} ${listName}(first: ${max}) { ${scalars(c.node)} } ${reach.close} }`, undefined, headers);
      expect(list.body.errors, c.coordinate).toBeUndefined();
      const listed = [...reach.path, listName].reduce((v: any, k) => v?.[k], list.body.data) as unknown[];
      expect(listed.length, `${c.coordinate}: its parent has rows to page`).toBeGreaterThan(1);
      // At least three pages for a short list; full pages for a long one.
      const pageSize = listed.length < max ? Math.max(1, Math.floor(listed.length / 3)) : max;
      const query = connectionQuery(c);
      const rows: unknown[] = [];
      const cursors = new Set<string>();
      let after: string | null = null;
      for (let pages = 0; ; pages++) {
        expect(pages, `${c.coordinate}: too many pages`).toBeLessThan(100);
        const { status, body } = await mesh.query(query, { first: pageSize, after }, headers);
        expect(body.errors, c.coordinate).toBeUndefined();
        expect(status).toBe(200);
        const page = at(body.data, c);
        expect(page.nodes, c.coordinate).toEqual(page.edges.map((e: { node: unknown }) => e.node));
        expect(page.edges.length, c.coordinate).toBeLessThanOrEqual(pageSize);
        for (const e of page.edges) {
          expect(cursors.has(e.cursor), `${c.coordinate}: a row came twice`).toBe(false);
          cursors.add(e.cursor);
        }
        rows.push(...page.nodes);
        expect(page.pageInfo.endCursor, c.coordinate).toBe(page.edges.at(-1)?.cursor ?? null);
        expect(page.pageInfo.startCursor, c.coordinate).toBe(page.edges[0]?.cursor ?? null);
        if (!page.pageInfo.hasNextPage) break;
        expect(page.edges.length, `${c.coordinate}: a page with a next page is full`).toBe(pageSize);
        after = page.pageInfo.endCursor;
      }
      expect(rows.slice(0, listed.length), `${c.coordinate} pages the rows of ${c.parent}.${listName}, in order`).toEqual(listed);
      if (listed.length < max) expect(rows.length, c.coordinate).toBe(listed.length);
      else {
        // More rows than the maximum page: all of them, by the source's count where the test knows it.
        expect(rows.length, `${c.coordinate} reads past its maximum page`).toBeGreaterThan(max);
        const total = TOTALS[c.coordinate];
        if (total) expect(rows.length, `${c.coordinate} reads to the source's count`).toBe(total(mesh));
      }
    }
  }, WALK_TIMEOUT_MS);

  const foreign = Buffer.from(JSON.stringify(['Some.otherConnection', 1])).toString('base64url');
  it.each(connections.map((c) => [c.coordinate, c] as const))('%s refuses a negative first, a first above the maximum, and cursors it did not issue, with BAD_USER_INPUT', async (_, c) => {
    {
      const headers = await headersFor(c);
      const max = statedMax(c);
      const query = connectionQuery(c);
      const ok = await mesh.query(query, { first: max }, headers);
      expect(ok.body.errors, `${c.coordinate}(first: ${max})`).toBeUndefined();
      const first = at(ok.body.data, c);
      const cursor = first.pageInfo.endCursor as string;
      expect(cursor, `${c.coordinate} has a row to take a cursor from`).toEqual(expect.any(String));
      // A changed character in the connection's name: still base64url, no longer this connection's cursor.
      const tampered = cursor[0] + (cursor[1] === 'A' ? 'B' : 'A') + cursor.slice(2);
      for (const [label, variables] of [
        ['first: -5', { first: -5 }],
        [`first: ${max + 1}`, { first: max + 1 }],
        ['after: "abc"', { after: 'abc' }],
        ['after: a cursor of another connection', { after: foreign }],
        ['after: a tampered cursor', { after: tampered }],
        ['after: not base64url', { after: '!!!!' }],
        ['after: ""', { after: '' }],
      ] as const) {
        const { body } = await mesh.query(query, variables as Record<string, unknown>, headers);
        const codes = (body.errors ?? []).map((e) => e.extensions?.code);
        expect(codes, `${c.coordinate}(${label})`).toEqual(['BAD_USER_INPUT']);
      }
    }
  });
});

describe('the plain lists no longer lie either', () => {
  it('refuse first above their cap, a negative first and a non-integer after instead of truncating or restarting', async () => {
    const auth = await fullAccess();
    for (const [label, query] of [
      ['orders(first: 101)', '{ customer(id: "5") { orders(first: 101) { id } } }'],
      ['orders(first: -5)', '{ customer(id: "5") { orders(first: -5) { id } } }'],
      ['customers(after: "abc")', '{ customers(after: "abc") { id } }'],
      ['products(first: 501)', '{ products(first: 501) { id } }'],
      ['salesTrend(last: 121)', '{ product(id: "1") { salesTrend(last: 121) { period } } }'],
    ]) {
      const { body } = await mesh.query(query!, undefined, auth);
      expect((body.errors ?? []).map((e) => e.extensions?.code), label).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('customer 5\'s 113 orders: 100 in the list, all 113 through the connection', async () => {
    const auth = await fullAccess();
    const { body } = await mesh.query('{ customer(id: "5") { orderCount orders(first: 100) { id } ordersConnection(first: 100) { pageInfo { hasNextPage endCursor } } } }', undefined, auth);
    expect(body.errors).toBeUndefined();
    expect(body.data.customer.orderCount).toBe(113);
    expect(body.data.customer.orders).toHaveLength(100);
    expect(body.data.customer.ordersConnection.pageInfo.hasNextPage).toBe(true);
    const rest = await mesh.query(
      'query($after: String) { customer(id: "5") { ordersConnection(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage } } } }',
      { after: body.data.customer.ordersConnection.pageInfo.endCursor },
      auth,
    );
    expect(rest.body.data.customer.ordersConnection.nodes).toHaveLength(13);
    expect(rest.body.data.customer.ordersConnection.pageInfo.hasNextPage).toBe(false);
    // Demand control sizes the page by `first` (@listSize sizedFields): the estimate bounds what ran.
    const costed = await mesh.query('{ customer(id: "5") { ordersConnection(first: 100) { edges { node { id } } nodes { id } pageInfo { hasNextPage } } } }', undefined, {
      ...auth,
      'x-cost-extensions': 'true',
    });
    const cost = costed.body.extensions!.cost;
    expect(cost.estimated).toBe(1 + 1 + 100 * (1 + 1) + 100 + 1); // customer, connection, edges with nodes, nodes, pageInfo
    expect(cost.actual).toBeLessThanOrEqual(cost.estimated);
  });
});

describe('row-level rules apply to pages and cursors', () => {
  it('a region-restricted caller pages through its region\'s customers only, to their full count', async () => {
    const europe = await fullAccess({ region: 'EUROPE' });
    const expected = count(mesh, 'customers', "SELECT COUNT(*) AS n FROM customers WHERE region = 'EUROPE'");
    let after: string | null = null;
    let seen = 0;
    for (;;) {
      const { body }: GraphQLResponse = await mesh.query(
        'query($after: String) { customersConnection(first: 500, after: $after) { nodes { id region } pageInfo { hasNextPage endCursor } } }',
        { after },
        europe,
      );
      expect(body.errors).toBeUndefined();
      const page: any = body.data.customersConnection;
      for (const node of page.nodes) expect(node.region).toBe('EUROPE');
      seen += page.nodes.length;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toBe(expected);
  });

  it('a cursor into a hidden customer\'s orders reveals none of them (sales asked directly, as the gateway would)', async () => {
    const regionOf = (id: number) => (mesh.database('customers').prepare('SELECT region FROM customers WHERE id = ?').get(id) as { region: string }).region;
    const outsider = [5, 6, 7, 8, 9, 10, 11, 12].find((id) => regionOf(id) !== 'EUROPE')!;
    const all = await mesh.query(`{ customer(id: "${outsider}") { ordersConnection(first: 2) { pageInfo { endCursor } } } }`, undefined, await fullAccess());
    const cursor = all.body.data.customer.ordersConnection.pageInfo.endCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const header = await new IdentitySigner(TEST_SIGNING_KEY).header({
      authenticated: true,
      subject: 'tester',
      scopes: [],
      claims: {},
      rows: { Customer: { match: { region: 'EUROPE' }, consent: false } },
    });
    for (const after of [null, cursor]) {
      const response = await fetch(mesh.subgraphs.sales!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: header },
        body: JSON.stringify({
          query: 'query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on Customer { ordersConnection(first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } } } }',
          variables: { r: [{ __typename: 'Customer', id: String(outsider) }], after },
        }),
      });
      const body = (await response.json()) as { data?: any; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      expect(body.data._entities[0].ordersConnection).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    }
  });

  it('a region-restricted marketer pages a campaign\'s responses of its region\'s customers only', async () => {
    const marketer = { authorization: `Bearer ${await token(['customers:pii:read'], { department: 'marketing', region: 'EUROPE' })}`, 'x-data-purpose': 'marketing' };
    const customers = mesh.database('customers');
    const regionOf = new Map((customers.prepare('SELECT id, region FROM customers').all() as { id: number; region: string }[]).map((r) => [String(r.id), r.region]));
    let after: string | null = null;
    let seen = 0;
    for (;;) {
      const { body }: GraphQLResponse = await mesh.query(
        'query($after: String) { campaign(id: "3") { responsesConnection(first: 50, after: $after) { edges { cursor node { customer { id } } } pageInfo { hasNextPage endCursor } } } }',
        { after },
        marketer,
      );
      expect(body.errors).toBeUndefined();
      const page: any = body.data.campaign.responsesConnection;
      // customer is null when the customers domain hides it; the marketing rows themselves are filtered at the source.
      for (const e of page.edges) if (e.node.customer) expect(regionOf.get(e.node.customer.id)).toBe('EUROPE');
      seen += page.edges.length;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const inRegion = count(
      mesh,
      'marketing',
      "SELECT COUNT(*) AS n FROM campaign_responses r JOIN customer_scope s ON s.customer_id = r.customer_id WHERE r.campaign_id = 3 AND s.region = 'EUROPE'",
    );
    expect(seen).toBeLessThanOrEqual(inRegion);
    expect(seen).toBeGreaterThan(0);
  });
});
