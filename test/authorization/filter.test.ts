import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildASTSchema, Kind, parse, print, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { Authorizer, type Caller } from '../../gateway/authorization/authorizer.js';
import { OperationAnalysis, type FilterOutcome, type NullPlan } from '../../gateway/authorization/operation-filter.js';
import { PolicyBook } from '../../gateway/authorization/policy-book.js';
import { and, isSatisfied, NO_REQUIREMENT, type Grants, type Requirement } from '../../gateway/authorization/requirement.js';
import { applyNulls } from '../../gateway/authorization/response-nulls.js';
import { SecurityIndex } from '../../gateway/authorization/security-index.js';
import { MAX_REPORTED_PATHS } from '../../gateway/authorization/unauthorized-paths.js';
import { composeSubgraphs } from '../../gateway/composition/compose-supergraph.js';
import { OperationCache } from '../../gateway/operation/operation-cache.js';
import { shapeOperation } from '../../gateway/operation/operation-shape.js';
import { Supergraph } from '../../gateway/supergraph/supergraph.js';

/**
 * Authorization as pure functions, in the style of Apollo Router's `filter(schema, query, grants)`
 * tests: a supergraph, an operation and what the caller holds in; the filtered operation, the
 * unauthorized paths and the null placement out. No servers, no HTTP (test/authorization/matrix.test.ts
 * runs the same semantics end to end).
 *
 * The supergraph is the matrix's (fixture.ts), with a few fields added where marked.
 */
const ACCOUNTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])

  type Query {
    publicInfo: String
    me: User @authenticated
    user(id: ID!): User
    users: [User!]!
    node(id: ID!): Node
    items: [Item!]!
    search: [SearchResult!]!
    secretNumber: SecretNumber
    level: Level
    warehouses: [Warehouse]
  }
  type Mutation {
    updateEmail(id: ID!, email: String!): User @requiresScopes(scopes: [["user:write"]])
    ping: String
  }
  interface Node { id: ID! }
  type User implements Node @key(fields: "id") {
    id: ID!
    name: String!
    email: String @requiresScopes(scopes: [["user:read:email"]])
    ssn: String! @requiresScopes(scopes: [["pii:read", "ssn:read"]])
    salary: Int @policy(policies: [["hr"]])
    internalNote: String @requiresScopes(scopes: [["admin"], ["support"]])
  }
  type Document implements Node @key(fields: "id") @authenticated {
    id: ID!
    title: String
  }
  union SearchResult = User | Document
  interface Item { id: ID! label: String }
  type Book implements Item { id: ID! label: String }
  type Secret implements Item { id: ID! label: String @requiresScopes(scopes: [["secret:read"]]) }
  scalar SecretNumber @requiresScopes(scopes: [["secret:read"]])
  enum Level @authenticated { LOW HIGH }
  type Warehouse @key(fields: "code") {
    code: String! @requiresScopes(scopes: [["ops:read"]])
    city: String
  }
`;

const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])

  type User @key(fields: "id") {
    id: ID!
    reviews: [Review!] @authenticated
    karma: Int @requiresScopes(scopes: [["karma:read"]])
  }
  type Review {
    id: ID!
    body: String!
    rating: Int @requiresScopes(scopes: [["rating:read"]])
    # Added here: a protected non-null field in a list of non-null items under a nullable list.
    author: String! @requiresScopes(scopes: [["author:read"]])
  }
  type Warehouse @key(fields: "code") {
    code: String!
    stock: Int
  }
`;

const compose = (...subgraphs: [name: string, sdl: string][]) =>
  Supergraph.fromSdl(composeSubgraphs(subgraphs.map(([name, sdl]) => ({ name, url: `http://${name}.invalid/graphql`, typeDefs: parse(sdl) }))).supergraphSdl);

const supergraph = compose(['accounts', ACCOUNTS], ['reviews', REVIEWS]);

/** What a caller holds. Anything besides `{}` is an authenticated caller. */
interface Holds {
  authenticated?: boolean;
  scopes?: string[];
  policies?: string[];
}
const ANONYMOUS: Holds = { authenticated: false };
const AUTHENTICATED: Holds = {};
const EVERYTHING: Holds = {
  scopes: ['user:read:email', 'pii:read', 'ssn:read', 'admin', 'karma:read', 'rating:read', 'author:read', 'secret:read', 'ops:read', 'user:write'],
  policies: ['hr'],
};

const grants = (holds: Holds): Grants => ({
  authenticated: holds.authenticated ?? true,
  scopes: new Set(holds.scopes ?? []),
  policy: (name) => (holds.policies ?? []).includes(name),
});

interface Filtered {
  outcome: FilterOutcome;
  analysis: OperationAnalysis;
  document: DocumentNode;
  printed: string;
}

/** Router's `filter(schema, query, grants)`: shape, analyse, decide. */
function filter(query: string, holds: Holds, variables?: Record<string, unknown>, operationName?: string, sg: Supergraph = supergraph): Filtered {
  const document = parse(query);
  const analysis = new OperationAnalysis(sg.security, shapeOperation(sg.schema, document, operationName));
  const g = grants(holds);
  const outcome = analysis.decide(
    analysis.requirements.map((r) => isSatisfied(r, g)),
    variables,
  );
  return { outcome, analysis, document, printed: normalize(outcome.document) };
}

/** Printed with the operation first and fragments by name: the filter may list fragments in another order. */
function normalize(document: DocumentNode | string): string {
  const doc = typeof document === 'string' ? parse(document) : document;
  const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const fragments = doc.definitions
    .filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)
    .sort((a, b) => (a.kind === Kind.FRAGMENT_DEFINITION && b.kind === Kind.FRAGMENT_DEFINITION ? a.name.value.localeCompare(b.name.value) : 0));
  return [...operations, ...fragments].map((d) => print(d)).join('\n\n');
}

/** A null-placement run over a response the filtered operation would get. */
const nulls = (f: Filtered, data: Record<string, unknown> | null) => applyNulls(structuredClone(data), f.outcome.plan);

const dnf = (r: Requirement | undefined) => r && { authenticated: r.authenticated, scopes: r.scopes, policies: r.policies };

// ---------------------------------------------------------------------------------------------
describe('the security index', () => {
  const LINKS = `
    schema
      @link(url: "https://specs.apollo.dev/link/v1.0")
      @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
      @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
      @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)
    { query: Query }
  `;
  /** An index over hand-written supergraph SDL: no composition, so nothing is propagated for us. */
  const indexOf = (sdl: string) => {
    const document = parse(sdl);
    return new SecurityIndex(document, buildASTSchema(document, { assumeValidSDL: true }));
  };

  it('reads @authenticated, @requiresScopes and @policy as written, scopes and policies in DNF', () => {
    const { security } = supergraph;
    expect(dnf(security.fields.get('Query.me'))).toEqual({ authenticated: true, scopes: null, policies: null });
    expect(dnf(security.fields.get('User.email'))).toEqual({ authenticated: false, scopes: [['user:read:email']], policies: null });
    expect(security.fields.get('User.ssn')?.scopes).toEqual([['pii:read', 'ssn:read']]);
    expect(security.fields.get('User.internalNote')?.scopes).toEqual([['admin'], ['support']]);
    expect(dnf(security.fields.get('User.salary'))).toEqual({ authenticated: false, scopes: null, policies: [['hr']] });
    expect(security.types.get('Document')?.authenticated).toBe(true);
    // Public fields are absent: checking them is one failed lookup.
    expect(security.fields.has('User.name')).toBe(false);
    expect(security.fields.has('Query.publicInfo')).toBe(false);
  });

  it('decides DNF requirements: the outer list is OR, each inner list AND, and any requirement needs authentication', () => {
    const r = supergraph.security.fields.get('User.ssn')!;
    expect(isSatisfied(r, grants({ scopes: ['pii:read'] }))).toBe(false);
    expect(isSatisfied(r, grants({ scopes: ['pii:read', 'ssn:read'] }))).toBe(true);
    const either = supergraph.security.fields.get('User.internalNote')!;
    expect(isSatisfied(either, grants({ scopes: ['support'] }))).toBe(true);
    expect(isSatisfied(either, grants({ scopes: ['admin'] }))).toBe(true);
    expect(isSatisfied(either, grants({ scopes: ['other'] }))).toBe(false);
    // Scopes without a valid token do not count.
    expect(isSatisfied(either, grants({ authenticated: false, scopes: ['admin'] }))).toBe(false);
    expect(isSatisfied(supergraph.security.fields.get('User.salary')!, grants({ policies: ['hr'] }))).toBe(true);
    expect(isSatisfied(supergraph.security.fields.get('User.salary')!, grants({ authenticated: false, policies: ['hr'] }))).toBe(false);
    expect(isSatisfied(NO_REQUIREMENT, grants(ANONYMOUS))).toBe(true);
  });

  it('ANDs requirements in DNF, pruning conjunctions that contain another', () => {
    const scopes = (s: string[][]): Requirement => ({ authenticated: false, scopes: s, policies: null });
    expect(and(scopes([['a'], ['b']]), scopes([['c']])).scopes).toEqual([['a', 'c'], ['b', 'c']]);
    expect(and(scopes([['a'], ['b']]), scopes([['a']])).scopes).toEqual([['a']]);
    expect(and(scopes([['a']]), scopes([['a']])).scopes).toEqual([['a']]);
    expect(and(scopes([['a']]), { authenticated: true, scopes: null, policies: [['p']] })).toEqual({ authenticated: true, scopes: [['a']], policies: [['p']] });
    expect(and(NO_REQUIREMENT, scopes([['a']])).scopes).toEqual([['a']]);
  });

  it("gives a field its return type's requirement: scalar, enum, object and interface, through lists and non-null", () => {
    const { security } = supergraph;
    expect(security.fields.get('Query.secretNumber')?.scopes).toEqual([['secret:read']]);
    expect(security.fields.get('Query.level')?.authenticated).toBe(true);
    expect(security.fields.get('Query.node')?.authenticated).toBe(true);

    const index = indexOf(`${LINKS}
      type Query { docs: [Doc!]! pet: Pet count: Count mood: Mood ok: String }
      type Doc @requiresScopes(scopes: [["doc"]]) { id: ID }
      interface Pet @policy(policies: [["pets"]]) { name: String }
      type Dog implements Pet @policy(policies: [["pets"]]) { name: String }
      scalar Count @authenticated
      enum Mood @requiresScopes(scopes: [["mood"]]) { HAPPY }
    `);
    expect(index.fields.get('Query.docs')?.scopes).toEqual([['doc']]);
    expect(index.fields.get('Query.pet')?.policies).toEqual([['pets']]);
    expect(index.fields.get('Query.count')?.authenticated).toBe(true);
    expect(index.fields.get('Query.mood')?.scopes).toEqual([['mood']]);
    expect(index.fields.has('Query.ok')).toBe(false);
  });

  it('makes an interface field need what every implementation needs for it (its field and the type itself)', () => {
    const index = indexOf(`${LINKS}
      type Query { pets: [Pet] }
      interface Pet { name: String age: Int }
      type Dog implements Pet { name: String @requiresScopes(scopes: [["dog"]]) age: Int }
      type Cat implements Pet @authenticated { name: String age: Int }
      type Fish implements Pet { name: String age: Int @policy(policies: [["fish"]]) }
    `);
    expect(dnf(index.fields.get('Pet.name'))).toEqual({ authenticated: true, scopes: [['dog']], policies: null });
    expect(dnf(index.fields.get('Pet.age'))).toEqual({ authenticated: true, scopes: null, policies: [['fish']] });
    // The implementations themselves only need their own.
    expect(dnf(index.fields.get('Dog.name'))).toEqual({ authenticated: false, scopes: [['dog']], policies: null });
    expect(index.fields.has('Dog.age')).toBe(false);
    // In the composed fixture: Item.label is protected because Secret.label is.
    expect(supergraph.security.fields.get('Item.label')?.scopes).toEqual([['secret:read']]);
    expect(supergraph.security.fields.has('Book.label')).toBe(false);
  });

  it('ANDs requirements given by several subgraphs (composition) and by several directives and extensions (index)', () => {
    const one = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy"])
      type Query { t: T }
      type T @key(fields: "id") { id: ID! shared: String @shareable @requiresScopes(scopes: [["a"], ["b"]]) }
    `;
    const two = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy"])
      type T @key(fields: "id") @authenticated { id: ID! shared: String @shareable @requiresScopes(scopes: [["c"]]) @policy(policies: [["p"]]) }
    `;
    const composed = compose(['one', one], ['two', two]).security;
    expect(dnf(composed.fields.get('T.shared'))).toEqual({ authenticated: false, scopes: [['a', 'c'], ['b', 'c']], policies: [['p']] });
    // The type's own requirement is checked where the type is reached (here: Query.t).
    expect(composed.types.get('T')?.authenticated).toBe(true);
    expect(composed.fields.get('Query.t')?.authenticated).toBe(true);

    const index = indexOf(`${LINKS}
      type Query { t: T }
      type T @authenticated { x: String @requiresScopes(scopes: [["a"]]) @requiresScopes(scopes: [["b"]]) }
      extend type T @requiresScopes(scopes: [["t"]])
    `);
    expect(dnf(index.types.get('T'))).toEqual({ authenticated: true, scopes: [['t']], policies: null });
    expect(index.fields.get('T.x')?.scopes).toEqual([['a', 'b']]);
    expect(dnf(index.fields.get('Query.t'))).toEqual({ authenticated: true, scopes: [['t']], policies: null });
  });

  it('recognizes security directives renamed on import or by `as`, and ignores same-named directives that are not linked', () => {
    const renamed = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", {name: "@requiresScopes", as: "@scopes"}, {name: "@authenticated", as: "@signedIn"}])
      type Query { a: String @scopes(scopes: [["x"]]) b: String @signedIn }
    `;
    const composed = compose(['renamed', renamed]);
    expect(composed.sdl).toContain('{name: "@requiresScopes", as: "@scopes"}');
    expect(composed.security.fields.get('Query.a')?.scopes).toEqual([['x']]);
    expect(composed.security.fields.get('Query.b')?.authenticated).toBe(true);

    const index = indexOf(`
      schema
        @link(url: "https://specs.apollo.dev/link/v1.0")
        @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY, import: [{name: "@requiresScopes", as: "@scopes"}])
        @link(url: "https://specs.apollo.dev/policy/v0.1", as: "rules", for: SECURITY)
      { query: Query }
      type Query {
        a: String @scopes(scopes: [["x"]])
        b: String @rules(policies: [["p"]])
        c: String @requiresScopes(scopes: [["not-linked-under-this-name"]])
        d: String @authenticated
      }
    `);
    expect(index.fields.get('Query.a')?.scopes).toEqual([['x']]);
    expect(index.fields.get('Query.b')?.policies).toEqual([['p']]);
    expect(index.fields.has('Query.c')).toBe(false);
    expect(index.fields.has('Query.d')).toBe(false);
    expect([...index.policyNames]).toEqual(['p']);
  });

  it('lists every policy name used anywhere', () => {
    expect([...supergraph.security.policyNames]).toEqual(['hr']);
    const index = indexOf(`${LINKS}
      type Query { a: A b: String @policy(policies: [["p1", "p2"], ["p3"]]) }
      type A @policy(policies: [["p4"]]) { x: String }
      scalar S @policy(policies: [["p5"]])
    `);
    expect([...index.policyNames].sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('the filter', () => {
  const expectFiltered = (f: Filtered, expected: string, paths: (string | number)[][]) => {
    expect(f.printed).toBe(normalize(expected));
    expect(f.outcome.changed).toBe(true);
    expect(f.outcome.unauthorizedPaths).toEqual(paths);
    expect(f.outcome.truncated).toBe(false);
  };

  it('removes an unauthorized field and reports its path', () => {
    expectFiltered(filter('{ user(id: "1") { name email } }', ANONYMOUS), '{ user(id: "1") { name } }', [['user', 'email']]);
    expectFiltered(filter('{ user(id: "1") { name email } }', { scopes: ['other'] }), '{ user(id: "1") { name } }', [['user', 'email']]);
  });

  it('keeps what the caller may read: AND of scopes needs all, OR of scopes needs one, policies by name', () => {
    const query = '{ user(id: "1") { name ssn internalNote salary } }';
    expectFiltered(filter(query, { scopes: ['pii:read', 'support'] }), '{ user(id: "1") { name internalNote } }', [
      ['user', 'ssn'],
      ['user', 'salary'],
    ]);
    const granted = filter(query, { scopes: ['pii:read', 'ssn:read', 'admin'], policies: ['hr'] });
    expect(granted.outcome.changed).toBe(false);
    expect(granted.printed).toBe(normalize(query));
  });

  it('reports paths by response key: aliases, not field names', () => {
    expectFiltered(filter('{ u: user(id: "1") { n: name e: email } }', ANONYMOUS), '{ u: user(id: "1") { n: name } }', [['u', 'e']]);
  });

  it('reports list items as `@`, once per field however many items', () => {
    expectFiltered(filter('{ users { name email } }', AUTHENTICATED), '{ users { name } }', [['users', '@', 'email']]);
    expectFiltered(filter('{ user(id: "1") { reviews { body rating } } }', AUTHENTICATED), '{ user(id: "1") { reviews { body } } }', [
      ['user', 'reviews', '@', 'rating'],
    ]);
  });

  it('keeps a named fragment a named fragment, rewritten once however often it is spread', () => {
    const f = filter('query Q { user(id: "1") { ...F } me { ...F } } fragment F on User { name email }', AUTHENTICATED);
    expectFiltered(f, 'query Q { user(id: "1") { ...F } me { ...F } } fragment F on User { name }', [
      ['user', 'email'],
      ['me', 'email'],
    ]);
  });

  it('keeps a fragment the filter did not touch as the same definition object', () => {
    const f = filter('{ user(id: "1") { ...Public email } } fragment Public on User { name }', AUTHENTICATED);
    const original = f.document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    expect(f.outcome.document.definitions).toContain(original);
  });

  it('drops a fragment emptied by filtering, with all its spreads', () => {
    const f = filter('{ user(id: "1") { name ...Private } users { ...Private name } } fragment Private on User { email internalNote }', AUTHENTICATED);
    expectFiltered(f, '{ user(id: "1") { name } users { name } }', [
      ['user', 'email'],
      ['user', 'internalNote'],
      ['users', '@', 'email'],
      ['users', '@', 'internalNote'],
    ]);
    expect(f.outcome.document.definitions).toHaveLength(1);
  });

  it('drops the unused fragment definitions and other operations of the document', () => {
    const f = filter('query A { user(id: "1") { name email } } query B { publicInfo } fragment Unused on User { name }', ANONYMOUS, undefined, 'A');
    expectFiltered(f, 'query A { user(id: "1") { name } }', [['user', 'email']]);
  });

  it('removes a field whose selection is left empty, and drops the variables only it used', () => {
    const f = filter('query Q($id: ID!, $other: ID!) { user(id: $id) { name } second: user(id: $other) { email internalNote } }', AUTHENTICATED);
    expectFiltered(f, 'query Q($id: ID!) { user(id: $id) { name } }', [
      ['second', 'email'],
      ['second', 'internalNote'],
    ]);
    expect(f.outcome.empty).toBe(false);
  });

  it('drops a variable used only inside a removed fragment', () => {
    const f = filter('query Q($id: ID!) { publicInfo ...Q } fragment Q on Query { user(id: $id) { email } }', ANONYMOUS);
    expectFiltered(f, 'query Q { publicInfo }', [['user', 'email']]);
  });

  it('marks an operation whose every root field was removed as empty', () => {
    const f = filter('{ me { name } level }', ANONYMOUS);
    expect(f.outcome.empty).toBe(true);
    expect(f.outcome.unauthorizedPaths).toEqual([['me'], ['level']]);
    expect(applyNulls({}, f.outcome.plan)).toEqual({ me: null, level: null });
  });

  it('protects whole operations by root field: a mutation', () => {
    expectFiltered(filter('mutation { updateEmail(id: "2", email: "b@x") { name } ping }', AUTHENTICATED), 'mutation { ping }', [['updateEmail']]);
  });

  it('drops an inline fragment on a protected type and reports it at its parent (the list items)', () => {
    expectFiltered(filter('{ search { ... on User { name } ... on Document { title } } }', ANONYMOUS), '{ search { ... on User { name } } }', [['search', '@']]);
    // Authenticated, the Document fragment stays.
    expect(filter('{ search { ... on User { name } ... on Document { title } } }', AUTHENTICATED).outcome.changed).toBe(false);
  });

  it('drops a named fragment on a protected type, with its definition, reported at its parent', () => {
    const f = filter('{ search { ...U ...D } } fragment U on User { name } fragment D on Document { title }', ANONYMOUS);
    expectFiltered(f, '{ search { ...U } } fragment U on User { name }', [['search', '@']]);
  });

  it('drops a fragment on a protected interface inside a union', () => {
    expectFiltered(filter('{ search { ... on Node { id } ... on User { name } } }', ANONYMOUS), '{ search { ... on User { name } } }', [['search', '@']]);
  });

  it('protects an interface field when any implementation protects it, unless read through a public implementation', () => {
    expectFiltered(filter('{ items { id label } }', AUTHENTICATED), '{ items { id } }', [['items', '@', 'label']]);
    expect(filter('{ items { id ... on Book { label } } }', AUTHENTICATED).outcome.changed).toBe(false);
  });

  it('protects fields returning protected scalars, enums and interfaces', () => {
    expectFiltered(filter('{ secretNumber publicInfo level }', AUTHENTICATED), '{ publicInfo level }', [['secretNumber']]);
    expectFiltered(filter('{ publicInfo level node(id: "1") { id } }', ANONYMOUS), '{ publicInfo }', [['level'], ['node']]);
  });

  describe('@skip and @include', () => {
    const query = 'query ($e: Boolean!) { user(id: "1") { name email @include(if: $e) } }';

    it('neither checks nor reports a field excluded by a literal', () => {
      for (const q of ['{ user(id: "1") { name email @skip(if: true) } }', '{ user(id: "1") { name email @include(if: false) } }']) {
        const f = filter(q, ANONYMOUS);
        expect(f.outcome.changed).toBe(false);
        expect(f.outcome.document).toBe(f.document);
        expect(f.outcome.unauthorizedPaths).toEqual([]);
      }
      expectFiltered(filter('{ user(id: "1") { name email @skip(if: false) } }', ANONYMOUS), '{ user(id: "1") { name } }', [['user', 'email']]);
      expectFiltered(filter('{ user(id: "1") { name email @include(if: true) } }', ANONYMOUS), '{ user(id: "1") { name } }', [['user', 'email']]);
    });

    it("follows the request's variables (and drops the variable with the field)", () => {
      expect(filter(query, ANONYMOUS, { e: false }).outcome.changed).toBe(false);
      expectFiltered(filter(query, ANONYMOUS, { e: true }), '{ user(id: "1") { name } }', [['user', 'email']]);
    });

    it("uses a variable's default when the request leaves it out, and the request's value over the default", () => {
      const withDefault = 'query ($e: Boolean = false) { user(id: "1") { name email @include(if: $e) } }';
      expect(filter(withDefault, ANONYMOUS).outcome.changed).toBe(false);
      expect(filter(withDefault, ANONYMOUS, {}).outcome.changed).toBe(false);
      expectFiltered(filter(withDefault, ANONYMOUS, { e: true }), '{ user(id: "1") { name } }', [['user', 'email']]);
      const skipByDefault = 'query ($s: Boolean = true) { user(id: "1") { name email @skip(if: $s) } }';
      expect(filter(skipByDefault, ANONYMOUS).outcome.changed).toBe(false);
      expectFiltered(filter(skipByDefault, ANONYMOUS, { s: false }), '{ user(id: "1") { name } }', [['user', 'email']]);
    });

    it('applies to fragments: an excluded fragment on a protected type is not checked', () => {
      const q = 'query ($d: Boolean!) { search { ... on User { name } ... on Document @include(if: $d) { title } } }';
      expect(filter(q, ANONYMOUS, { d: false }).outcome.changed).toBe(false);
      expectFiltered(filter(q, ANONYMOUS, { d: true }), '{ search { ... on User { name } } }', [['search', '@']]);
      const spread = 'query ($e: Boolean = false) { user(id: "1") { name ...F @include(if: $e) } } fragment F on User { email ssn }';
      expect(filter(spread, ANONYMOUS).outcome.changed).toBe(false);
    });

    it('decides each combination of variable values on its own', () => {
      const { analysis } = filter(query, ANONYMOUS);
      const denied = analysis.requirements.map(() => false);
      const included = analysis.decide(denied, { e: true });
      const excluded = analysis.decide(denied, { e: false });
      expect(included.changed).toBe(true);
      expect(excluded.changed).toBe(false);
      expect(analysis.decide(denied, { e: true })).toBe(included);
    });
  });

  it('never filters __typename or introspection', () => {
    expectFiltered(filter('{ __typename user(id: "1") { __typename email } }', ANONYMOUS), '{ __typename user(id: "1") { __typename } }', [['user', 'email']]);
    const introspection = '{ __schema { queryType { name } } __type(name: "User") { fields { name } } me { name } }';
    expectFiltered(filter(introspection, ANONYMOUS), '{ __schema { queryType { name } } __type(name: "User") { fields { name } } }', [['me']]);
    const onlyIntrospection = filter('{ __schema { types { name } } __typename }', ANONYMOUS);
    expect(onlyIntrospection.analysis.requirements).toEqual([]);
    expect(onlyIntrospection.outcome.document).toBe(onlyIntrospection.document);
  });

  it('returns the original document object when nothing is removed, and one outcome per grant pattern', () => {
    const f = filter('{ user(id: "1") { name email ssn salary reviews { rating } } }', EVERYTHING);
    expect(f.outcome.changed).toBe(false);
    expect(f.outcome.document).toBe(f.document);
    expect(f.outcome.plan).toBeNull();
    expect(f.outcome.unauthorizedPaths).toEqual([]);
    const allowed = f.analysis.requirements.map(() => true);
    expect(f.analysis.decide(allowed, undefined)).toBe(f.analysis.decide(allowed, {}));
    const denied = f.analysis.requirements.map(() => false);
    expect(f.analysis.decide(denied, undefined)).toBe(f.analysis.decide(denied, undefined));
  });

  it('lists one requirement per distinct requirement the operation touches', () => {
    const { analysis } = filter('{ a: user(id: "1") { email } b: user(id: "2") { email ssn } users { email } }', ANONYMOUS);
    expect(analysis.requirements.map((r) => r.scopes)).toEqual([[['user:read:email']], [['pii:read', 'ssn:read']]]);
  });

  it('reports the coordinates the filtered operation still selects', () => {
    const f = filter('{ user(id: "1") { name email reviews { body rating } } }', AUTHENTICATED);
    expect([...f.outcome.coordinates].sort()).toEqual(['Query.user', 'Review.body', 'User.name', 'User.reviews']);
    const all = filter('{ user(id: "1") { name email } }', EVERYTHING);
    expect([...all.outcome.coordinates].sort()).toEqual(['Query.user', 'User.email', 'User.name']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('null placement (applyNulls)', () => {
  it('puts null where a nullable field was removed', () => {
    const f = filter('{ user(id: "1") { name email } }', ANONYMOUS);
    expect(nulls(f, { user: { name: 'Ada' } })).toEqual({ user: { name: 'Ada', email: null } });
    expect(nulls(f, { user: null })).toEqual({ user: null });
  });

  it('propagates a removed non-null field to the nearest nullable parent', () => {
    const f = filter('{ publicInfo user(id: "1") { name ssn } }', ANONYMOUS);
    expect(nulls(f, { publicInfo: 'hello', user: { name: 'Ada' } })).toEqual({ publicInfo: 'hello', user: null });
  });

  it('propagates through a non-null list of non-null items up to `data: null`', () => {
    const f = filter('{ publicInfo users { name ssn } }', ANONYMOUS);
    expect(nulls(f, { publicInfo: 'hello', users: [{ name: 'Ada' }, { name: 'Bob' }] })).toBeNull();
    // An empty list has no item to null.
    expect(nulls(f, { publicInfo: 'hello', users: [] })).toEqual({ publicInfo: 'hello', users: [] });
    expect(applyNulls(null, f.outcome.plan)).toBeNull();
  });

  it('nulls the items of a list of nullable items, leaving null items alone', () => {
    const f = filter('{ warehouses { code city } }', ANONYMOUS);
    expect(f.printed).toBe(normalize('{ warehouses { city } }'));
    expect(nulls(f, { warehouses: [{ city: 'Lyon' }, null, { city: 'Oslo' }] })).toEqual({ warehouses: [null, null, null] });
  });

  it('nulls a nullable list whose non-null items cannot be completed', () => {
    const f = filter('{ user(id: "1") { name reviews { body author } } }', AUTHENTICATED);
    expect(f.outcome.unauthorizedPaths).toEqual([['user', 'reviews', '@', 'author']]);
    expect(nulls(f, { user: { name: 'Ada', reviews: [{ body: 'Good' }] } })).toEqual({ user: { name: 'Ada', reviews: null } });
    expect(nulls(f, { user: { name: 'Ada', reviews: [] } })).toEqual({ user: { name: 'Ada', reviews: [] } });
    expect(nulls(f, { user: { name: 'Ada', reviews: null } })).toEqual({ user: { name: 'Ada', reviews: null } });
  });

  it('nulls a field whose selection was emptied', () => {
    const f = filter('{ publicInfo user(id: "1") { internalNote } }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ publicInfo }'));
    expect(nulls(f, { publicInfo: 'hello' })).toEqual({ publicInfo: 'hello', user: null });
  });

  it('nulls deep fields through named fragments', () => {
    const f = filter('{ user(id: "1") { ...U } } fragment U on User { name reviews { ...R } } fragment R on Review { body rating }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ user(id: "1") { ...U } } fragment U on User { name reviews { ...R } } fragment R on Review { body }'));
    expect(nulls(f, { user: { name: 'Ada', reviews: [{ body: 'a' }, { body: 'b' }] } })).toEqual({
      user: { name: 'Ada', reviews: [{ body: 'a', rating: null }, { body: 'b', rating: null }] },
    });
  });

  it('under `... on T` on an interface, nulls only objects of T, then removes the __typename the filter added', () => {
    const f = filter('{ items { id ... on Secret { label } } }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ items { id __typename } }'));
    expect(f.outcome.unauthorizedPaths).toEqual([['items', '@', 'label']]);
    const data = { items: [{ id: 'b1', __typename: 'Book' }, { id: 's1', __typename: 'Secret' }] };
    expect(nulls(f, data)).toEqual({ items: [{ id: 'b1' }, { id: 's1', label: null }] });
  });

  it('keeps a __typename the client selected', () => {
    const f = filter('{ items { __typename id ... on Secret { label } } }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ items { __typename id } }'));
    const data = { items: [{ __typename: 'Book', id: 'b1' }, { __typename: 'Secret', id: 's1' }] };
    expect(nulls(f, data)).toEqual({ items: [{ __typename: 'Book', id: 'b1' }, { __typename: 'Secret', id: 's1', label: null }] });
  });

  it('keeps a __typename the client selected under a fragment only on objects of that type', () => {
    const f = filter('{ items { id ... on Book { __typename } ... on Secret { label } } }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ items { id ... on Book { __typename } __typename } }'));
    const data = { items: [{ id: 'b1', __typename: 'Book' }, { id: 's1', __typename: 'Secret' }] };
    expect(nulls(f, data)).toEqual({ items: [{ id: 'b1', __typename: 'Book' }, { id: 's1', label: null }] });
  });

  it('treats an aliased __typename as the client’s own field, adding and removing the plain one', () => {
    const f = filter('{ items { t: __typename id ... on Secret { label } } }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ items { t: __typename id __typename } }'));
    const data = { items: [{ t: 'Book', id: 'b1', __typename: 'Book' }, { t: 'Secret', id: 's1', __typename: 'Secret' }] };
    expect(nulls(f, data)).toEqual({ items: [{ t: 'Book', id: 'b1' }, { t: 'Secret', id: 's1', label: null }] });
  });

  it('on a union, nulls only the members the fragment names', () => {
    const f = filter('{ search { ... on User { name email } ... on Document { title } } }', AUTHENTICATED);
    expect(f.printed).toBe(normalize('{ search { ... on User { name } ... on Document { title } __typename } }'));
    expect(f.outcome.unauthorizedPaths).toEqual([['search', '@', 'email']]);
    const data = {
      search: [
        { __typename: 'User', name: 'Ada' },
        { __typename: 'Document', title: 'Merger plan' },
      ],
    };
    expect(nulls(f, data)).toEqual({ search: [{ name: 'Ada', email: null }, { title: 'Merger plan' }] });
  });

  it('propagates a non-null field removed under a type condition only from objects of that type', () => {
    const f = filter('{ search { ... on User { name ssn } ... on Document { title } } }', AUTHENTICATED);
    // search is [SearchResult!]!: a User item that loses ssn cannot be completed, so data is null.
    expect(nulls(f, { search: [{ __typename: 'Document', title: 'M' }] })).toEqual({ search: [{ title: 'M' }] });
    expect(nulls(f, { search: [{ __typename: 'Document', title: 'M' }, { __typename: 'User', name: 'Ada' }] })).toBeNull();
  });

  /*
   * A response key selected more than once at one level: GraphQL merges the occurrences into one
   * field, so a removed occurrence must not null what another, authorized occurrence still provides;
   * only what is unauthorized inside it becomes null (found by the review that added these tests).
   */
  describe('a field selected more than once at one level', () => {
    it('filters the document and reports the path as for a single selection', () => {
      const f = filter('{ users { name } users { internalNote } }', AUTHENTICATED);
      expect(f.printed).toBe(normalize('{ users { name } }'));
      expect(f.outcome.unauthorizedPaths).toEqual([['users', '@', 'internalNote']]);
      // Written with a fragment instead, the same operation gets the right nulls.
      const viaFragment = filter('{ users { name ...N } } fragment N on User { internalNote }', AUTHENTICATED);
      expect(nulls(viaFragment, { users: [{ name: 'Ada' }] })).toEqual({ users: [{ name: 'Ada', internalNote: null }] });
    });

    it('keeps the other occurrence when one occurrence is emptied: nulls only the unauthorized field', () => {
      const f = filter('{ users { name } users { internalNote } }', AUTHENTICATED);
      expect(nulls(f, { users: [{ name: 'Ada' }] })).toEqual({ users: [{ name: 'Ada', internalNote: null }] });
    });

    it('keeps a list field selected directly when a fragment selects it again with only unauthorized fields', () => {
      const f = filter('{ user(id: "1") { reviews { body } ...F } } fragment F on User { reviews { rating } }', AUTHENTICATED);
      expect(f.printed).toBe(normalize('{ user(id: "1") { reviews { body } } }'));
      expect(f.outcome.unauthorizedPaths).toEqual([['user', 'reviews', '@', 'rating']]);
      expect(nulls(f, { user: { reviews: [{ body: 'x' }] } })).toEqual({ user: { reviews: [{ body: 'x', rating: null }] } });
    });

    it("keeps an implementation's field read through `... on Book` beside the denied interface field", () => {
      const f = filter('{ items { label ... on Book { label } } }', AUTHENTICATED);
      // The filter asks for __typename to tell Books from the others, and strips it afterwards.
      expect(f.printed).toBe(normalize('{ items { ... on Book { label } __typename } }'));
      expect(f.outcome.unauthorizedPaths).toEqual([['items', '@', 'label']]);
      const data = { items: [{ label: 'A public book', __typename: 'Book' }, { __typename: 'Secret' }] };
      expect(nulls(f, data)).toEqual({ items: [{ label: 'A public book' }, { label: null }] });
    });
  });

  // Every sub-selection skipped: GraphQL gives `user: {}`, not null.
  it('keeps an authorized field whose every sub-selection is skipped as an empty object', () => {
    const f = filter('{ user(id: "1") { reviews @skip(if: true) { body } } me { name } }', ANONYMOUS);
    expect(f.outcome.unauthorizedPaths).toEqual([['me']]);
    expect(nulls(f, { user: {} })).toEqual({ user: {}, me: null });
  });

  it('returns the data untouched when there is no plan', () => {
    const data = { publicInfo: 'hello' };
    expect(applyNulls(data, null)).toBe(data);
    expect(applyNulls(undefined, null)).toEqual({});
  });
});

// ---------------------------------------------------------------------------------------------
describe('linear cost', () => {
  const THING = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@requiresScopes"])
    type Query { thing: Thing }
    type Thing { id: ID! self: Thing public: String secret: String @requiresScopes(scopes: [["secret"]]) }
  `;
  const things = compose(['things', THING]);
  const LEVELS = 30;

  /** F0 selects one protected and one public field; each Fk uses F(k-1) twice: 2^30 fields expanded. */
  function doubling(level: (k: number) => string): string {
    const fragments = ['fragment F0 on Thing { public secret }'];
    for (let k = 1; k <= LEVELS; k++) fragments.push(`fragment F${k} on Thing { ${level(k - 1)} }`);
    return `query Doubling { thing { ...F${LEVELS} } }\n${fragments.join('\n')}`;
  }

  const countPlans = (plan: NullPlan | null) => {
    const seen = new Set<NullPlan>();
    const pending = plan ? [plan] : [];
    while (pending.length) {
      const p = pending.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      for (const e of p.nulls) if (e.next) pending.push(e.next);
    }
    return seen.size;
  };

  it('fragment doubling: shaping, analysing, deciding and printing stay linear in the document', () => {
    const query = doubling((k) => `...F${k} ...F${k}`);
    const started = performance.now();
    const f = filter(query, ANONYMOUS, undefined, undefined, things);
    const printed = print(f.outcome.document);
    const elapsed = performance.now() - started;

    expect(f.printed).toBe(normalize(query.replace('public secret', 'public')));
    expect(printed.length).toBeLessThan(3 * query.length);
    expect(f.outcome.unauthorizedPaths).toEqual([['thing', 'secret']]);
    expect(f.outcome.truncated).toBe(false);
    expect(countPlans(f.outcome.plan)).toBeLessThanOrEqual(2);
    expect(nulls(f, { thing: { public: 'p' } })).toEqual({ thing: { public: 'p', secret: null } });
    expect(elapsed).toBeLessThan(2_000);
  });

  it('fragment doubling with aliases: error paths are capped at 1,000 and the work stays bounded', () => {
    const query = doubling((k) => `a: self { ...F${k} } b: self { ...F${k} }`);
    const started = performance.now();
    const f = filter(query, ANONYMOUS, undefined, undefined, things);
    const printed = print(f.outcome.document);
    const elapsed = performance.now() - started;

    expect(f.printed).toBe(normalize(query.replace('public secret', 'public')));
    expect(printed.length).toBeLessThan(3 * query.length);
    expect(f.outcome.truncated).toBe(true);
    expect(f.outcome.unauthorizedPaths).toHaveLength(MAX_REPORTED_PATHS);
    expect(new Set(f.outcome.unauthorizedPaths.map((p) => p.join('.'))).size).toBe(MAX_REPORTED_PATHS);
    expect(f.outcome.unauthorizedPaths[0]).toEqual(['thing', ...Array<string>(LEVELS).fill('a'), 'secret']);
    // The null plan is a graph as small as the document (one level per selection set), not a tree of 2^30 leaves.
    expect(countPlans(f.outcome.plan)).toBeLessThanOrEqual(f.analysis.shape.sets.length);
    expect(f.analysis.shape.sets.length).toBe(query.split('{').length - 1);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('fragment doubling with everything granted: the original document, no work per expansion', () => {
    const query = doubling((k) => `a: self { ...F${k} } b: self { ...F${k} }`);
    const started = performance.now();
    const f = filter(query, { scopes: ['secret'] }, undefined, undefined, things);
    expect(f.outcome.document).toBe(f.document);
    expect(f.outcome.coordinates).toEqual(new Set(['Query.thing', 'Thing.self', 'Thing.public', 'Thing.secret']));
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

// ---------------------------------------------------------------------------------------------
describe('the Authorizer, without HTTP', () => {
  const policyFile = (yaml: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'authz-filter-')), 'policies.yaml');
    writeFileSync(file, yaml);
    return new PolicyBook(file);
  };
  const HR = policyFile(`
policies:
  hr:
    expression: 'has(claims.department) && claims.department == "hr"'
`);
  const cache = new OperationCache(supergraph.schema);
  const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
  const prepare = (query: string, operationName?: string) => cache.get(parse(query), hashOf(query), operationName);
  const caller = (over: Partial<Caller> = {}): Caller => ({ authenticated: true, scopes: new Set(), claims: {}, purpose: 'test', ...over });

  it('gives a caller lacking a scope UNAUTHORIZED_FIELD_OR_TYPE errors at the paths, and a new query hash', () => {
    const authorizer = new Authorizer(supergraph.security, 'filter', HR);
    const query = '{ user(id: "1") { name email } users { email } }';
    const prepared = prepare(query);
    const decision = authorizer.decide(prepared, { operationName: undefined }, caller({ scopes: new Set(['unrelated']) }))!;
    expect(decision).not.toBeNull();
    expect(decision.errors.map((e) => [e.message, e.path, e.extensions.code])).toEqual([
      ['Unauthorized field or type', ['user', 'email'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
      ['Unauthorized field or type', ['users', '@', 'email'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
    expect(print(decision.outcome.document)).toBe(print(parse('{ user(id: "1") { name } }')));
    expect(decision.queryHash).not.toBe(prepared.queryHash);
    expect(decision.queryHash).toBe(hashOf(print(decision.outcome.document)));
    // The same decision again: the same outcome and hash (cached per grant pattern).
    const again = authorizer.decide(prepared, { operationName: undefined }, caller({ scopes: new Set(['other']) }))!;
    expect(again.outcome).toBe(decision.outcome);
    expect(again.queryHash).toBe(decision.queryHash);
  });

  it('returns null for a caller with every grant, and for an operation that touches nothing protected', () => {
    const authorizer = new Authorizer(supergraph.security, 'filter', HR);
    const everything = caller({ scopes: new Set(EVERYTHING.scopes), claims: { department: 'hr' } });
    expect(authorizer.decide(prepare('{ user(id: "1") { name email ssn salary internalNote karma reviews { rating author } } }'), { operationName: null }, everything)).toBeNull();
    expect(authorizer.decide(prepare('{ publicInfo user(id: "1") { name } }'), { operationName: null }, caller({ authenticated: false }))).toBeNull();
  });

  it('evaluates a policy from the claims (CEL): allows and denies', () => {
    const authorizer = new Authorizer(supergraph.security, 'filter', HR);
    const prepared = prepare('query Pay { user(id: "1") { name salary } }', 'Pay');
    expect(authorizer.decide(prepared, { operationName: 'Pay' }, caller({ claims: { department: 'hr' } }))).toBeNull();
    const sales = authorizer.decide(prepared, { operationName: 'Pay' }, caller({ claims: { department: 'sales' } }))!;
    expect(sales.errors.map((e) => e.path)).toEqual([['user', 'salary']]);
    expect(authorizer.decide(prepared, { operationName: 'Pay' }, caller({ claims: {} }))?.errors.map((e) => e.path)).toEqual([['user', 'salary']]);
    // Anonymous: denied before any policy runs.
    expect(authorizer.decide(prepared, { operationName: 'Pay' }, caller({ authenticated: false, claims: { department: 'hr' } }))?.errors).toHaveLength(1);
  });

  it('passes scopes and the request to policies', () => {
    const book = policyFile(`
policies:
  hr:
    expression: '"payroll" in scopes && request.purpose == "audit" && request.operationName == "Pay"'
`);
    const authorizer = new Authorizer(supergraph.security, 'filter', book);
    const prepared = prepare('query Pay { user(id: "1") { salary } }', 'Pay');
    expect(authorizer.decide(prepared, { operationName: 'Pay' }, caller({ scopes: new Set(['payroll']), purpose: 'audit' }))).toBeNull();
    expect(authorizer.decide(prepared, { operationName: 'Pay' }, caller({ scopes: new Set(['payroll']), purpose: 'marketing' }))).not.toBeNull();
    expect(authorizer.decide(prepared, { operationName: 'Pay' }, caller({ purpose: 'audit' }))).not.toBeNull();
  });

  it('denies when a policy expression errors, or yields anything but true', () => {
    const erroring = policyFile(`
policies:
  hr:
    expression: 'claims.department == "hr"'
`);
    const authorizer = new Authorizer(supergraph.security, 'filter', erroring);
    const prepared = prepare('{ user(id: "1") { name salary } }');
    expect(authorizer.decide(prepared, { operationName: undefined }, caller({ claims: { department: 'hr' } }))).toBeNull();
    // No `department` claim: the expression errors (no such key), and the policy denies.
    expect(authorizer.decide(prepared, { operationName: undefined }, caller({ claims: {} }))?.errors.map((e) => e.path)).toEqual([['user', 'salary']]);

    const typeError = policyFile(`
policies:
  hr:
    expression: 'claims.level + 1 > 3'
`);
    expect(typeError.evaluate('hr', { claims: { level: 'high' }, scopes: [], request: { purpose: '', operationName: '' } })).toBe(false);
    const notBoolean = policyFile(`
policies:
  hr:
    expression: 'claims.department'
`);
    expect(notBoolean.evaluate('hr', { claims: { department: 'hr' }, scopes: [], request: { purpose: '', operationName: '' } })).toBe(false);
    expect(new Authorizer(supergraph.security, 'filter', notBoolean).decide(prepared, { operationName: undefined }, caller({ claims: { department: 'hr' } }))).not.toBeNull();
  });

  it('refuses to start when the supergraph uses a policy the book does not define', () => {
    const empty = policyFile('policies: {}\n');
    expect(() => new Authorizer(supergraph.security, 'filter', empty)).toThrow(/hr/);
  });

  it('adds one error saying more paths were unauthorized than are listed', () => {
    const things = compose([
      'things',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@requiresScopes"])
       type Query { thing: Thing }
       type Thing { self: Thing secret: String @requiresScopes(scopes: [["secret"]]) }`,
    ]);
    const fragments = ['fragment F0 on Thing { secret }'];
    for (let k = 1; k <= 12; k++) fragments.push(`fragment F${k} on Thing { a: self { ...F${k - 1} } b: self { ...F${k - 1} } }`);
    const query = `{ thing { ...F12 } }\n${fragments.join('\n')}`;
    const prepared = new OperationCache(things.schema).get(parse(query), hashOf(query), undefined);
    const decision = new Authorizer(things.security, 'filter', HR).decide(prepared, { operationName: undefined }, caller())!;
    expect(decision.outcome.truncated).toBe(true);
    expect(decision.errors).toHaveLength(MAX_REPORTED_PATHS + 1);
    expect(decision.errors.at(-1)!.path).toBeUndefined();
    expect(decision.errors.at(-1)!.extensions.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    // Everything was removed: `thing` goes, nothing to execute.
    expect(decision.outcome.empty).toBe(true);
  });
});
