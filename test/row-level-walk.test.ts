import { getNamedType, isObjectType, type GraphQLField, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { startMesh, token, type TestMesh } from './helpers/mesh.js';

/**
 * The region rule, checked on every path of the supergraph that leads to a row about a customer:
 * the paths are discovered from the schema (not listed by hand), so a field or domain added later
 * is walked too. For each path, region-restricted callers (finance and marketing staff, each
 * with the scopes and policies that let them reach everything) query it, and every row about a
 * customer that comes back is checked against the databases: it must belong to the caller's region.
 */
let mesh: TestMesh;
let schema: GraphQLSchema;
const regionOfCustomer = new Map<number, string>();
const customerOfOrder = new Map<number, number>();
const customerOfInvoice = new Map<number, number>();
const invoiceOfPayment = new Map<number, number>();

beforeAll(async () => {
  mesh = await startMesh();
  schema = Supergraph.fromSdl(mesh.supergraphSdl).schema;
  for (const r of mesh.database('customers').prepare('SELECT id, region FROM customers').all() as { id: number; region: string }[]) regionOfCustomer.set(r.id, r.region);
  for (const r of mesh.database('sales').prepare('SELECT id, customer_id FROM orders').all() as { id: number; customer_id: number }[]) customerOfOrder.set(r.id, r.customer_id);
  const finance = mesh.database('finance');
  for (const r of finance.prepare('SELECT id, customer_id FROM invoices').all() as { id: number; customer_id: number }[]) customerOfInvoice.set(r.id, r.customer_id);
  for (const r of finance.prepare('SELECT id, invoice_id FROM payments').all() as { id: number; invoice_id: number }[]) invoiceOfPayment.set(r.id, r.invoice_id);
}, 120_000);
afterAll(() => mesh?.close());

/**
 * How to tell, for each type of row about a customer, which customer a returned row is about: what
 * to select, and how to find its customer in the databases (or from the row it was reached through).
 * The test fails if the schema has a customer-owned type missing here.
 */
const ROWS: Record<string, { select: string; customer: (row: any, parent: number | null) => number | null | undefined }> = {
  Customer: { select: 'id', customer: (r) => Number(r.id) },
  Order: { select: 'id', customer: (r) => customerOfOrder.get(Number(r.id)) },
  OrderLine: { select: 'lineNumber', customer: (_, parent) => parent },
  Invoice: { select: 'id', customer: (r) => customerOfInvoice.get(Number(r.id)) },
  Payment: { select: 'id', customer: (r) => customerOfInvoice.get(invoiceOfPayment.get(Number(r.id)) ?? -1) },
  // Aliased: the path may go on through `customer`, where authorization can null it.
  CampaignResponse: { select: 'respondent: customer { id }', customer: (r) => (r.respondent ? Number(r.respondent.id) : null) },
  Consent: { select: 'updatedAt', customer: (_, parent) => parent },
};

/**
 * Customer-owned types, from the schema: Customer; every type with a field returning Customer (an
 * order, an invoice, a response is about its customer); and, to a fixed point, every type that is
 * reached only through customer-owned types (order lines, payments, consent).
 */
function customerOwnedTypes(schema: GraphQLSchema): Set<string> {
  const query = schema.getQueryType()!;
  const objects = Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__') && t !== query && !isPagingWrapper(t));
  const owned = new Set<string>(['Customer']);
  for (const t of objects) if (Object.values(t.getFields()).some((f) => getNamedType(f.type).name === 'Customer')) owned.add(t.name);
  const parents = new Map<string, Set<string>>();
  for (const t of [query, ...objects]) {
    for (const f of Object.values(t.getFields())) {
      const target = getNamedType(f.type).name;
      (parents.get(target) ?? parents.set(target, new Set()).get(target)!).add(t.name);
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of objects) {
      const from = parents.get(t.name);
      if (owned.has(t.name) || !from || from.has(query.name)) continue;
      if ([...from].every((p) => owned.has(p))) owned.add(t.name), (grew = true);
    }
  }
  return owned;
}

/**
 * Relay's connection, edge and PageInfo types wrap rows without being rows: the walk goes through a
 * connection's `nodes` (test/paging.test.ts checks that its edges hold the same nodes).
 */
function isPagingWrapper(type: GraphQLObjectType): boolean {
  const fields = type.getFields();
  return type.name === 'PageInfo' || Boolean(fields.pageInfo && fields.edges) || Boolean(fields.cursor && fields.node);
}

interface Step {
  parent: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
  type: GraphQLObjectType;
}

/** Every path from a root field to a customer-owned type (no type twice), keeping only the longest: each query checks every owned level on its way. */
function pathsToOwnedRows(schema: GraphQLSchema, owned: Set<string>, maxDepth = 5): Step[][] {
  const reaches = new Map<string, boolean>();
  const canReach = (type: GraphQLObjectType, seen: Set<string>): boolean => {
    if (owned.has(type.name)) return true;
    if (reaches.has(type.name)) return reaches.get(type.name)!;
    if (seen.has(type.name)) return false;
    seen.add(type.name);
    const result = Object.values(type.getFields()).some((f) => {
      const t = getNamedType(f.type);
      return isObjectType(t) && canReach(t, seen);
    });
    reaches.set(type.name, result);
    return result;
  };
  const found: Step[][] = [];
  const walk = (type: GraphQLObjectType, path: Step[]) => {
    if (path.length >= maxDepth) return;
    for (const field of Object.values(type.getFields())) {
      const next = getNamedType(field.type);
      if (!isObjectType(next) || path.some((s) => s.parent === next) || next === type || !canReach(next, new Set())) continue;
      if (isPagingWrapper(type) && field.name === 'edges') continue;
      const extended = [...path, { parent: type, field, type: next }];
      if (owned.has(next.name)) found.push(extended);
      walk(next, extended);
    }
  };
  walk(schema.getQueryType()!, []);
  const key = (p: Step[]) => p.map((s) => `${s.parent.name}.${s.field.name}`).join(' > ');
  const keys = found.map(key);
  return found.filter((_, i) => !keys.some((other, j) => j !== i && other.startsWith(`${keys[i]} > `)));
}

/** One query for a path: ids at the root, `first` on lists, and at each owned level what identifies its rows. */
function queryFor(path: Step[], rootId: string | null): string {
  const args = (step: Step, root: boolean) => {
    const parts: string[] = [];
    for (const a of step.field.args) {
      if (a.name === 'id' && root && rootId !== null) parts.push(`id: "${rootId}"`);
      else if (a.name === 'first') parts.push(`first: ${root ? 25 : 8}`);
    }
    return parts.length ? `(${parts.join(', ')})` : '';
  };
  let inner = '';
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i]!;
    const own = ROWS[step.type.name]?.select ?? '__typename';
    inner = `${step.field.name}${args(step, i === 0)} { __typename ${own} ${inner} }`;
  }
  return `{ ${inner} }`;
}

/** Walks the response along the path, checking each owned row; counts the rows each field returned (`Type.field`). */
function check(data: any, path: Step[], region: string, problems: string[], where: string, seen: Map<string, number>): void {
  const visit = (value: any, depth: number, parentCustomer: number | null) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) return value.forEach((v) => visit(v, depth, parentCustomer));
    const step = path[depth]!;
    let customer = parentCustomer;
    const row = ROWS[step.type.name];
    if (row) {
      const id = row.customer(value, parentCustomer);
      if (id === null || id === undefined) problems.push(`${where}: a ${step.type.name} whose customer is unknown: ${JSON.stringify(value).slice(0, 120)}`);
      else if (regionOfCustomer.get(id) !== region) problems.push(`${where}: ${step.type.name} of customer ${id} (${regionOfCustomer.get(id)}) returned to a ${region} caller`);
      customer = id ?? parentCustomer;
      const coordinate = `${step.parent.name}.${step.field.name}`;
      seen.set(coordinate, (seen.get(coordinate) ?? 0) + 1);
    }
    if (depth < path.length - 1) visit(value[path[depth + 1]!.field.name], depth + 1, customer);
  };
  visit(data?.[path[0]!.field.name], 0, null);
}

const REGION = 'EUROPE';
const ALLOWED_CODES = new Set(['UNAUTHORIZED_FIELD_OR_TYPE', 'PURPOSE_NOT_ALLOWED']);

describe('row-level rules on every path to a customer-owned row (discovered from the supergraph)', () => {
  it('discovers the customer-owned types from the schema', () => {
    const owned = customerOwnedTypes(schema);
    for (const t of ['Customer', 'Order', 'OrderLine', 'Invoice', 'Payment', 'CampaignResponse', 'Consent']) expect(owned.has(t), t).toBe(true);
    for (const t of ['Product', 'Category', 'Segment', 'Campaign', 'SalesTrendPoint', 'RevenueFigure']) expect(owned.has(t), t).toBe(false);
    // Every owned type must say how its rows are checked.
    expect([...owned].filter((t) => !ROWS[t])).toEqual([]);
  });

  it(`shows a ${REGION} caller only rows about ${REGION} customers, through every path, in every domain`, async () => {
    const owned = customerOwnedTypes(schema);
    const paths = pathsToOwnedRows(schema, owned);
    expect(paths.length).toBeGreaterThan(10);
    // The callers between them can reach every product: finance staff (invoices, payments) and
    // marketing staff with the marketing purpose (campaign responses).
    const scopes = ['customers:pii:read', 'sales:read', 'marketing:consent:read'];
    const callers = {
      finance: { authorization: `Bearer ${await token(scopes, { department: 'finance', region: REGION })}` },
      marketing: { authorization: `Bearer ${await token(scopes, { department: 'marketing', region: REGION })}`, 'x-data-purpose': 'marketing' },
    };
    // Root ids: rows of the caller's region (which must come back) and of others (which must not).
    const ids = rootIds();
    const problems: string[] = [];
    const seen = new Map<string, number>();
    const reached = new Set(paths.flatMap((p) => p.filter((s) => owned.has(s.type.name)).map((s) => `${s.parent.name}.${s.field.name}`)));
    for (const path of paths) {
      const root = path[0]!;
      const needsId = root.field.args.some((a) => a.name === 'id' && a.type.toString().endsWith('!'));
      const candidates = needsId ? (ids[root.type.name] ?? { inside: ['1', '2', '3'], outside: [] }) : { inside: [null], outside: [] };
      const label = path.map((s) => `${s.parent.name}.${s.field.name}`).join(' > ');
      for (const [name, headers] of Object.entries(callers)) {
        for (const [side, list] of Object.entries(candidates) as [string, (string | null)[]][]) {
          for (const id of list) {
            const query = queryFor(path, id);
            const { status, body } = await mesh.query(query, undefined, headers);
            const where = `${name} ${label}${id ? ` (id ${id})` : ''}`;
            if (status !== 200) problems.push(`${where}: HTTP ${status} ${JSON.stringify(body.errors?.[0])}`);
            for (const e of body.errors ?? []) {
              if (!ALLOWED_CODES.has(e.extensions?.code)) problems.push(`${where}: unexpected error ${e.extensions?.code}: ${e.message}`);
            }
            if (side === 'outside' && body.data?.[root.field.name] !== null) problems.push(`${where}: another region's ${root.type.name} is not null`);
            check(body.data, path, REGION, problems, where, seen);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // Not vacuous: every field that leads to a customer-owned row returned some (to one caller or
    // the other: no single caller holds both the finance and the marketing policy).
    expect([...reached].filter((c) => !seen.get(c)).sort()).toEqual([]);
  }, 300_000);
});

/** For root fields taking an id: three rows of the caller's region, with data below them, and three of other regions. */
function rootIds(): Record<string, { inside: string[]; outside: string[] }> {
  const sales = mesh.database('sales');
  const finance = mesh.database('finance');
  const marketing = mesh.database('marketing');
  const regionIn = (id: number) => regionOfCustomer.get(id) === REGION;
  const pick = (rows: { id: number; customer: number }[]) => ({
    inside: rows.filter((r) => regionIn(r.customer)).slice(0, 3).map((r) => String(r.id)),
    outside: rows.filter((r) => !regionIn(r.customer)).slice(0, 3).map((r) => String(r.id)),
  });
  // Customers with orders, invoices and campaign responses (so every path below them has rows).
  const responders = new Set((marketing.prepare('SELECT DISTINCT customer_id AS id FROM campaign_responses').all() as { id: number }[]).map((r) => r.id));
  const busy = sales.prepare('SELECT customer_id AS id, customer_id AS customer FROM orders GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 400').all() as { id: number; customer: number }[];
  return {
    Customer: pick(busy.filter((c) => responders.has(c.id))),
    Order: pick(
      finance.prepare("SELECT i.order_id AS id, i.customer_id AS customer FROM invoices i WHERE EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id) ORDER BY i.id LIMIT 400").all() as { id: number; customer: number }[],
    ),
    Invoice: pick(finance.prepare('SELECT i.id, i.customer_id AS customer FROM invoices i WHERE EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id) ORDER BY i.id LIMIT 400').all() as { id: number; customer: number }[]),
  };
}
