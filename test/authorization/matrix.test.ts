import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationMode } from '../../gateway/config/gateway-config.js';
import { token } from '../helpers/mesh.js';
import { startAuthzFixture, type AuthzFixture } from './fixture.js';

/**
 * Apollo Router's authorization semantics, case by case, for an anonymous caller, a caller whose
 * token lacks what the field needs, and one whose token has it; in filter, reject and dry_run.
 * Each case states the full data and, per caller, what filter mode returns; reject and dry_run
 * follow from it (reject: errors only, nothing executed; dry_run: full data plus the errors).
 */
type Path = (string | number)[];
type Who = 'anonymous' | 'insufficient' | 'sufficient';
interface Outcome {
  data: unknown;
  paths: Path[];
}
interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  data: unknown;
  anonymous?: Outcome;
  insufficient?: Outcome;
  /** Words that must never reach a subgraph when the caller lacks the rights. */
  neverAsked?: Partial<Record<Who, string[]>>;
}

const both = (o: Outcome) => ({ anonymous: o, insufficient: o });

const CASES: Case[] = [
  { name: 'a public field', query: '{ publicInfo }', data: { publicInfo: 'hello' } },
  {
    name: 'a field with @requiresScopes',
    query: '{ user(id: "1") { name email } }',
    data: { user: { name: 'Ada', email: 'ada@example.com' } },
    ...both({ data: { user: { name: 'Ada', email: null } }, paths: [['user', 'email']] }),
    neverAsked: { anonymous: ['email'], insufficient: ['email'] },
  },
  {
    name: 'aliases (paths use the alias)',
    query: '{ u: user(id: "1") { n: name e: email } }',
    data: { u: { n: 'Ada', e: 'ada@example.com' } },
    ...both({ data: { u: { n: 'Ada', e: null } }, paths: [['u', 'e']] }),
  },
  {
    name: 'a named fragment',
    query: 'query { user(id: "1") { ...F } } fragment F on User { name email }',
    data: { user: { name: 'Ada', email: 'ada@example.com' } },
    ...both({ data: { user: { name: 'Ada', email: null } }, paths: [['user', 'email']] }),
    neverAsked: { anonymous: ['email'] },
  },
  {
    name: 'nested inline fragments',
    query: '{ user(id: "1") { ... on User { name ... on User { email } } } }',
    data: { user: { name: 'Ada', email: 'ada@example.com' } },
    ...both({ data: { user: { name: 'Ada', email: null } }, paths: [['user', 'email']] }),
  },
  {
    name: 'a non-null field (null propagates to the nullable parent; AND of scopes)',
    query: '{ user(id: "1") { name ssn } }',
    data: { user: { name: 'Ada', ssn: '111-11' } },
    ...both({ data: { user: null }, paths: [['user', 'ssn']] }),
    neverAsked: { anonymous: ['ssn'], insufficient: ['ssn'] },
  },
  {
    name: 'a list of non-null items (null propagates to data)',
    query: '{ users { name ssn } }',
    data: { users: [{ name: 'Ada', ssn: '111-11' }, { name: 'Bob', ssn: '222-22' }] },
    ...both({ data: null, paths: [['users', '@', 'ssn']] }),
  },
  {
    name: 'OR of scopes (a selection left empty removes its parent too)',
    query: '{ user(id: "1") { internalNote } }',
    data: { user: { internalNote: 'vip' } },
    ...both({ data: { user: null }, paths: [['user', 'internalNote']] }),
  },
  {
    name: 'a @policy field',
    query: '{ user(id: "1") { name salary } }',
    data: { user: { name: 'Ada', salary: 100 } },
    ...both({ data: { user: { name: 'Ada', salary: null } }, paths: [['user', 'salary']] }),
    neverAsked: { anonymous: ['salary'], insufficient: ['salary'] },
  },
  {
    name: 'an @authenticated root field (the whole operation filtered)',
    query: '{ me { name } }',
    data: { me: { name: 'Ada' } },
    anonymous: { data: { me: null }, paths: [['me']] },
  },
  {
    name: 'entity fields resolved through _entities in another subgraph',
    query: '{ user(id: "1") { name karma reviews { body rating } } }',
    data: { user: { name: 'Ada', karma: 7, reviews: [{ body: 'Review by 1', rating: 5 }] } },
    anonymous: { data: { user: { name: 'Ada', karma: null, reviews: null } }, paths: [['user', 'karma'], ['user', 'reviews']] },
    insufficient: {
      data: { user: { name: 'Ada', karma: null, reviews: [{ body: 'Review by 1', rating: null }] } },
      paths: [['user', 'karma'], ['user', 'reviews', '@', 'rating']],
    },
    neverAsked: { anonymous: ['karma', 'reviews', 'rating', '_entities'], insufficient: ['karma', 'rating'] },
  },
  {
    name: 'an interface field protected on one implementation',
    query: '{ items { id label } }',
    data: { items: [{ id: 'b1', label: 'A public book' }, { id: 's1', label: 'The secret' }] },
    ...both({ data: { items: [{ id: 'b1', label: null }, { id: 's1', label: null }] }, paths: [['items', '@', 'label']] }),
    neverAsked: { anonymous: ['label'] },
  },
  {
    name: 'an interface read through a fragment on the public implementation',
    query: '{ items { id ... on Book { label } } }',
    data: { items: [{ id: 'b1', label: 'A public book' }, { id: 's1' }] },
  },
  {
    name: 'a protected field under a type condition (only that type gets null)',
    query: '{ items { id ... on Secret { label } } }',
    data: { items: [{ id: 'b1' }, { id: 's1', label: 'The secret' }] },
    ...both({ data: { items: [{ id: 'b1' }, { id: 's1', label: null }] }, paths: [['items', '@', 'label']] }),
  },
  {
    name: 'a union with a fragment on a protected member (dropped)',
    query: '{ search { ... on User { name } ... on Document { title } } }',
    data: { search: [{ name: 'Ada' }, { name: 'Bob' }, { title: 'Merger plan' }] },
    anonymous: { data: { search: [{ name: 'Ada' }, { name: 'Bob' }, {}] }, paths: [['search', '@']] },
    neverAsked: { anonymous: ['title'] },
  },
  {
    // Composition marks `interface Node @authenticated` because its implementation Document is.
    name: 'an interface that composition protects because an implementation is',
    query: '{ node(id: "1") { id } }',
    data: { node: { id: '1' } },
    anonymous: { data: { node: null }, paths: [['node']] },
  },
  {
    name: 'a fragment on a public type under that protected interface',
    query: '{ node(id: "1") { ... on User { id name } } }',
    data: { node: { id: '1', name: 'Ada' } },
    anonymous: { data: { node: null }, paths: [['node']] },
  },
  {
    name: '@include(if: false) on a protected field (not checked, not reported)',
    query: 'query ($e: Boolean!) { user(id: "1") { name email @include(if: $e) } }',
    variables: { e: false },
    data: { user: { name: 'Ada' } },
  },
  {
    name: '@include(if: true) on a protected field',
    query: 'query ($e: Boolean!) { user(id: "1") { name email @include(if: $e) } }',
    variables: { e: true },
    data: { user: { name: 'Ada', email: 'ada@example.com' } },
    ...both({ data: { user: { name: 'Ada', email: null } }, paths: [['user', 'email']] }),
  },
  {
    name: '@skip(if: true) on a protected field',
    query: '{ user(id: "1") { name email @skip(if: true) } }',
    data: { user: { name: 'Ada' } },
  },
  {
    name: 'a protected key field not selected (the join still works)',
    query: '{ warehouses { city stock } }',
    data: { warehouses: [{ city: 'Lyon', stock: 12 }] },
  },
  {
    name: 'a protected key field selected',
    query: '{ warehouses { code city } }',
    data: { warehouses: [{ code: 'W1', city: 'Lyon' }] },
    ...both({ data: { warehouses: [null] }, paths: [['warehouses', '@', 'code']] }),
  },
  {
    name: '__typename beside a protected field',
    query: '{ user(id: "1") { __typename email } }',
    data: { user: { __typename: 'User', email: 'ada@example.com' } },
    ...both({ data: { user: { __typename: 'User', email: null } }, paths: [['user', 'email']] }),
  },
  {
    name: 'a protected scalar type',
    query: '{ secretNumber publicInfo }',
    data: { secretNumber: 42, publicInfo: 'hello' },
    ...both({ data: { secretNumber: null, publicInfo: 'hello' }, paths: [['secretNumber']] }),
  },
  {
    name: 'a protected enum type',
    query: '{ level }',
    data: { level: 'HIGH' },
    anonymous: { data: { level: null }, paths: [['level']] },
  },
  {
    name: 'several root fields, each decided on its own',
    query: '{ publicInfo me { name } user(id: "2") { email } }',
    data: { publicInfo: 'hello', me: { name: 'Ada' }, user: { email: 'bob@example.com' } },
    anonymous: { data: { publicInfo: 'hello', me: null, user: null }, paths: [['me'], ['user', 'email']] },
    insufficient: { data: { publicInfo: 'hello', me: { name: 'Ada' }, user: null }, paths: [['user', 'email']] },
  },
  {
    name: 'a mutation field',
    query: 'mutation { updateEmail(id: "2", email: "bob@example.com") { name } ping }',
    data: { updateEmail: { name: 'Bob' }, ping: 'pong' },
    ...both({ data: { updateEmail: null, ping: 'pong' }, paths: [['updateEmail']] }),
    neverAsked: { anonymous: ['updateEmail'], insufficient: ['updateEmail'] },
  },
];

let fixture: AuthzFixture;
const headers: Record<Who, Record<string, string>> = { anonymous: {}, insufficient: {}, sufficient: {} };

beforeAll(async () => {
  fixture = await startAuthzFixture();
  headers.insufficient = { authorization: `Bearer ${await token(['unrelated:scope'], { department: 'sales' })}` };
  const all = ['user:read:email', 'pii:read', 'ssn:read', 'admin', 'karma:read', 'rating:read', 'secret:read', 'ops:read', 'user:write'];
  headers.sufficient = { authorization: `Bearer ${await token(all, { department: 'hr' })}` };
});
afterAll(() => fixture?.close());

const sortPaths = (paths: Path[]) => paths.map((p) => JSON.stringify(p)).sort();

function expected(c: Case, who: Who, mode: AuthorizationMode): { data: unknown; paths: Path[]; executes: boolean } {
  const filtered = (who !== 'sufficient' && c[who]) || { data: c.data, paths: [] };
  if (mode === 'reject' && filtered.paths.length > 0) return { data: undefined, paths: filtered.paths, executes: false };
  if (mode === 'dry_run') return { data: c.data, paths: filtered.paths, executes: true };
  return { ...filtered, executes: true };
}

describe.each(['filter', 'reject', 'dry_run'] as const)('%s mode', (mode) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    for (const who of ['anonymous', 'insufficient', 'sufficient'] as const) {
      fixture.takeReceived();
      const { status, body } = await fixture.query(mode, c.query, c.variables, headers[who]);
      const want = expected(c, who, mode);
      const context = `${who} in ${mode}: ${JSON.stringify(body)}`;
      expect(status, context).toBe(mode === 'reject' && want.paths.length > 0 ? 403 : 200);
      expect(body.data, context).toEqual(want.data);
      const errors = body.errors ?? [];
      expect(sortPaths(errors.map((e) => e.path!)), context).toEqual(sortPaths(want.paths));
      for (const e of errors) {
        expect(e.message).toBe('Unauthorized field or type');
        expect(e.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
      }
      const received = fixture.takeReceived().join('\n');
      if (!want.executes) expect(received, `${context}: nothing may run`).toBe('');
      if (mode === 'filter') {
        for (const word of c.neverAsked?.[who as 'anonymous' | 'insufficient'] ?? []) {
          expect(received, `${context}: a subgraph was asked for ${word}`).not.toMatch(new RegExp(`\\b${word}\\b`));
        }
      }
    }
  });
});
