import { getNamedType, isLeafType, isListType, isNonNullType, isObjectType, type GraphQLField, type GraphQLObjectType, type GraphQLType } from 'graphql';
import { IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import type { CatalogSnapshot } from '../catalog/catalog-model.js';
import { CostIndex } from '../demand-control/cost-index.js';
import type { Supergraph } from '../supergraph/supergraph.js';
import { isSensitive } from '../audit/audit-plugin.js';

/** How deep below the person a report follows a domain's objects (Customer → orders → lines → product). */
const MAX_DEPTH = 4;
const TIMEOUT_MS = 15_000;

/** One subgraph's part of a report: one `_entities` query on the person's entity. */
interface SubgraphPlan {
  subgraph: string;
  url: string;
  query: string;
  /** Top-level fields of the person this subgraph holds (key fields excluded), with every coordinate read below each. */
  fields: { name: string; coordinate: string; coordinates: string[]; pager: Pager | null }[];
}

/** A list of the person's with a Relay connection beside it: read through it to its end when the list comes back full. */
interface Pager {
  /** The connection field, e.g. `ordersConnection`. */
  field: string;
  /** The size the list was asked for: a list this long may have more rows. */
  listSize: number;
  /** The connection's largest page. */
  pageSize: number;
  /** The list's selection set, reused for the connection's nodes. */
  selection: string;
}

/** Pages read per connection at most: a person's rows, 100 at a time. */
const MAX_PAGES = 200;

export interface SubjectAccessSection {
  product: { id: string; name: string; version: string; domain: string; owner: string | null; contact: string | null; purpose: string | null } | null;
  subgraph: string;
  fields: string[];
  coordinates: string[];
  records: number;
  data: Record<string, unknown>;
  lineage: {
    source: string;
    references: { product: string; kind: string; entity: string | null; via: string[] }[];
    inputPorts: string[];
  };
}

export interface SubjectAccessReport {
  subjectType: string;
  customerId: string;
  found: boolean;
  generatedAt: string;
  requestedBy: string | null;
  sections: SubjectAccessSection[];
  incomplete: { subgraph: string; error: string }[];
  omitted: { coordinate: string; reason: string }[];
}

/**
 * The subject access report (GDPR art. 15): everything every domain holds about one person.
 *
 * For each subgraph that adds fields to the person's entity (`Customer`), one query by entity key
 * (`_entities`), generated once from the supergraph: every field that subgraph resolves on the
 * person, and below it the objects it returns — all of a plain object's fields, the key and the
 * sensitive (PII, CONFIDENTIAL, RESTRICTED) fields of another entity, only the key of the person
 * type again (never another person's data), and no collections hanging off other objects (e.g. a
 * campaign's responses). Lists are read up to the size the schema declares (`@listSize`). Fields
 * that need arguments, `@requires` or an abstract type are listed as omitted.
 *
 * The queries run with the caller's own signed identity: row-level rules and masks apply to the
 * report as to any read. The data is grouped by the data product each field belongs to, with that
 * product's lineage from the catalog.
 */
export class SubjectAccess {
  private readonly plans: SubgraphPlan[] = [];
  readonly omitted: { coordinate: string; reason: string }[] = [];
  private readonly key: string;

  constructor(
    private readonly supergraph: Supergraph,
    private readonly catalog: () => CatalogSnapshot,
    readonly subjectType = 'Customer',
  ) {
    const type = supergraph.schema.getType(subjectType);
    const key = supergraph.facts.entityKeys.get(subjectType);
    if (!isObjectType(type) || !key || /\s/.test(key.trim())) throw new Error(`subject access needs an entity ${subjectType} with a single-field key`);
    this.key = key.trim();
    const costs = new CostIndex(supergraph.document, supergraph.schema);
    const omitted = new Map<string, string>();
    for (const { name, url } of supergraph.subgraphs) {
      if (url.startsWith('in-process://')) continue;
      const fields: SubgraphPlan['fields'] = [];
      const parts: string[] = [];
      for (const field of Object.values(type.getFields())) {
        if (field.name === this.key || !this.resolves(name, `${subjectType}.${field.name}`)) continue;
        const coordinates: string[] = [];
        const text = this.select(name, type, field, 0, [subjectType], coordinates, omitted, costs);
        if (text === null) continue;
        parts.push(text);
        fields.push({ name: field.name, coordinate: `${subjectType}.${field.name}`, coordinates, pager: this.pager(name, type, field, text, costs) });
      }
      if (parts.length === 0) continue;
      const query = `query SubjectAccess($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${subjectType} { ${this.key} ${parts.join(' ')} } } }`;
      this.plans.push({ subgraph: name, url, query, fields });
    }
    for (const [coordinate, reason] of omitted) this.omitted.push({ coordinate, reason });
  }

  /** The connection beside a list of the person's (`orders` → `ordersConnection`), when the subgraph resolves it. */
  private pager(subgraph: string, type: GraphQLObjectType, field: GraphQLField<unknown, unknown>, text: string, costs: CostIndex): Pager | null {
    const connection = type.getFields()[`${field.name}Connection`];
    const target = connection && getNamedType(connection.type);
    if (!connection || !returnsList(field.type) || !isObjectType(target) || !target.getFields().pageInfo || !target.getFields().nodes) return null;
    if (!this.resolves(subgraph, `${type.name}.${connection.name}`) || connection.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) return null;
    const listSize = costs.listSize(`${type.name}.${field.name}`)?.assumedSize;
    const pageSize = costs.listSize(`${type.name}.${connection.name}`)?.assumedSize;
    if (!listSize || !pageSize || !text.includes('{')) return null;
    return { field: connection.name, listSize, pageSize, selection: text.slice(text.indexOf('{')) };
  }

  /** Every row of a paged list of the person's, through its connection (the list came back full). */
  private async readAll(plan: SubgraphPlan, pager: Pager, customerId: string, identityHeader: string, signal?: AbortSignal): Promise<unknown[] | { error: string }> {
    const query = `query SubjectAccessPage($representations: [_Any!]!, $after: String) { _entities(representations: $representations) { ... on ${this.subjectType} {
      page: ${pager.field}(first: ${pager.pageSize}, after: $after) { nodes ${pager.selection} pageInfo { hasNextPage endCursor } } } } }`;
    const rows: unknown[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const result = await this.post(plan.url, query, { representations: [{ __typename: this.subjectType, [this.key]: customerId }], after }, identityHeader, signal);
      if ('error' in result) return result;
      const page = result.entity?.page as { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | undefined;
      if (!page) return rows;
      rows.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) return rows;
      after = page.pageInfo.endCursor;
    }
    return { error: `${pager.field}: more than ${MAX_PAGES} pages` };
  }

  private resolves(subgraph: string, coordinate: string): boolean {
    return this.supergraph.facts.resolvingSubgraphs(coordinate).includes(subgraph);
  }

  /** One field's selection in `subgraph` (with arguments and sub-selection), or null when it is left out. */
  private select(
    subgraph: string,
    parent: GraphQLObjectType,
    field: GraphQLField<unknown, unknown>,
    depth: number,
    path: string[],
    coordinates: string[],
    omitted: Map<string, string>,
    costs: CostIndex,
  ): string | null {
    const coordinate = `${parent.name}.${field.name}`;
    if (costs.requires(coordinate)) return omit(omitted, coordinate, 'needs fields from another subgraph (@requires)');
    const args: string[] = [];
    const listSize = costs.listSize(coordinate);
    for (const arg of field.args) {
      const slicing = listSize?.slicingArguments?.some((p) => p.length === 1 && p[0] === arg.name);
      if (slicing && listSize?.assumedSize) args.push(`${arg.name}: ${listSize.assumedSize}`);
      else if (isNonNullType(arg.type) && arg.defaultValue === undefined) return omit(omitted, coordinate, `needs the argument ${arg.name}`);
    }
    if (depth > 0 && args.length && returnsList(field.type)) return null; // a collection hanging off another object
    const named = getNamedType(field.type);
    const head = `${field.name}${args.length ? `(${args.join(', ')})` : ''}`;
    if (isLeafType(named)) {
      coordinates.push(coordinate);
      return head;
    }
    if (!isObjectType(named)) return omit(omitted, coordinate, 'returns an interface or union');
    // A Relay connection pages the rows of the plain list beside it, which the report reads.
    if (named.getFields().pageInfo && named.getFields().edges) return null;
    if (path.includes(named.name) && named.name !== this.subjectType) return null;
    const keyFields = (this.supergraph.facts.entityKeys.get(named.name) ?? '').split(/\s+/).filter((k) => k && named.getFields()[k]);
    const inner: string[] = [];
    if (named.name === this.subjectType || depth + 1 > MAX_DEPTH) {
      // Another person (or too deep): a reference by key, never their data.
      inner.push(...keyFields.filter((k) => this.resolves(subgraph, `${named.name}.${k}`)));
    } else {
      for (const child of Object.values(named.getFields())) {
        const childCoordinate = `${named.name}.${child.name}`;
        if (!this.resolves(subgraph, childCoordinate)) continue;
        // Another entity: its key, and only what is sensitive about it (not e.g. a product's sales trend).
        if (keyFields.length && !keyFields.includes(child.name) && !isSensitive(this.supergraph.facts.classifications.get(childCoordinate))) continue;
        const text = this.select(subgraph, named, child, depth + 1, [...path, named.name], coordinates, omitted, costs);
        if (text !== null) inner.push(text);
      }
    }
    coordinates.push(coordinate);
    return `${head} { ${inner.length ? inner.join(' ') : '__typename'} }`;
  }

  /** Builds the report for one person, with the caller's signed identity. */
  async report(customerId: string, identityHeader: string, requestedBy: string | null, signal?: AbortSignal): Promise<SubjectAccessReport> {
    const catalog = this.catalog();
    const sections = new Map<string, SubjectAccessSection>();
    const incomplete: SubjectAccessReport['incomplete'] = [];
    let found = false;
    const owners = this.owningSubgraphs(catalog);
    const results = await Promise.all(this.plans.map(async (plan) => ({ plan, result: await this.fetch(plan, customerId, identityHeader, signal) })));
    for (const { plan, result } of results) {
      if ('error' in result) {
        incomplete.push({ subgraph: plan.subgraph, error: result.error });
        continue;
      }
      const entity = result.entity;
      if (entity && owners.has(plan.subgraph)) found = true;
      if (!entity) continue;
      for (const field of plan.fields) {
        let value = entity[field.name];
        // A full list may have more rows: the report has all of them, read through the connection.
        if (field.pager && Array.isArray(value) && value.length >= field.pager.listSize) {
          const all = await this.readAll(plan, field.pager, customerId, identityHeader, signal);
          if ('error' in all) incomplete.push({ subgraph: plan.subgraph, error: all.error });
          else value = all;
        }
        const product = catalog.usage.get(field.coordinate)?.products[0];
        const id = product?.id ?? `(${plan.subgraph})`;
        let section = sections.get(id);
        if (!section) sections.set(id, (section = this.section(catalog, product?.id ?? null, plan.subgraph, customerId)));
        section.fields.push(field.coordinate);
        for (const c of field.coordinates) if (!section.coordinates.includes(c)) section.coordinates.push(c);
        section.data[field.name] = value ?? null;
        section.records += countRecords(value);
      }
    }
    const list = [...sections.values()].filter((s) => found || s.records > 0);
    for (const s of list) s.records += Object.values(s.data).some((v) => v !== null && typeof v !== 'object') ? 1 : 0;
    return {
      subjectType: this.subjectType,
      customerId,
      found,
      generatedAt: new Date().toISOString(),
      requestedBy,
      sections: list.sort((a, b) => (a.product?.id ?? a.subgraph).localeCompare(b.product?.id ?? b.subgraph)),
      incomplete,
      omitted: this.omitted,
    };
  }

  private section(catalog: CatalogSnapshot, productId: string | null, subgraph: string, customerId: string): SubjectAccessSection {
    const p = productId ? catalog.products.get(productId) : undefined;
    return {
      product: p
        ? { id: p.id, name: p.name, version: p.version, domain: p.domain, owner: p.owner.team, contact: p.owner.contact, purpose: p.description.purpose }
        : null,
      subgraph,
      fields: [],
      coordinates: [],
      records: 0,
      data: {},
      lineage: {
        source: `subgraph ${subgraph}, ${this.subjectType}(${this.key}: "${customerId}") by entity key`,
        references: (p?.lineage.references ?? []).map((l) => ({ product: l.productId, kind: l.kind, entity: l.entity, via: l.via })),
        inputPorts: (p?.inputPorts ?? []).map((i) => i.contractId ?? i.name),
      },
    };
  }

  /** Subgraphs of the products that own the person's entity (output its key): their answer says whether the person exists. */
  private owningSubgraphs(catalog: CatalogSnapshot): Set<string> {
    const owners = new Set<string>();
    for (const p of catalog.products.values()) if (p.fields.some((f) => f.coordinate === `${this.subjectType}.${this.key}` && !f.rootField)) owners.add(p.subgraph);
    return owners;
  }

  private fetch(plan: SubgraphPlan, customerId: string, identityHeader: string, signal?: AbortSignal): Promise<{ entity: Record<string, unknown> | null } | { error: string }> {
    return this.post(plan.url, plan.query, { representations: [{ __typename: this.subjectType, [this.key]: customerId }] }, identityHeader, signal);
  }

  private async post(url: string, query: string, variables: Record<string, unknown>, identityHeader: string, signal?: AbortSignal): Promise<{ entity: Record<string, unknown> | null } | { error: string }> {
    try {
      const timeout = AbortSignal.timeout(TIMEOUT_MS);
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: identityHeader },
        body: JSON.stringify({ query, variables }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const body = (await response.json()) as { data?: { _entities?: (Record<string, unknown> | null)[] }; errors?: { message: string }[] };
      if (body.errors?.length) return { error: body.errors.map((e) => e.message).join('; ') };
      if (!response.ok) return { error: `HTTP ${response.status}` };
      return { entity: body.data?._entities?.[0] ?? null };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }
}

function omit(omitted: Map<string, string>, coordinate: string, reason: string): null {
  omitted.set(coordinate, reason);
  return null;
}

function returnsList(type: GraphQLType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** Objects in a value (list items and nested objects, each once). */
function countRecords(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + countRecords(v), 0);
  if (typeof value !== 'object' || value === null) return 0;
  let n = 1;
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) n += countRecords(v);
  return n;
}
