/**
 * The files of a new domain (`npm run new-domain -- <name>`): a working subgraph on the kit that
 * composes, starts, serves its data product and passes every governance rule as generated. The
 * team then replaces the example entity with its own; the comments say what to keep.
 */
export interface DomainNames {
  /** Folder, subgraph and database name: lowercase letters and digits (`widgets`). */
  domain: string;
  /** The entity type, PascalCase (`Widget`). */
  entity: string;
  /** camelCase singular root field (`widget`) and plural list field (`widgets`). */
  one: string;
  many: string;
  /** SQL table (`widgets`). */
  table: string;
  /** The data product's id, kebab-case (`widgets-catalog`). */
  product: string;
  /** Title for humans (`Widgets`). */
  title: string;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const kebab = (s: string) => snake(s).replace(/_/g, '-');

export function plural(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

export function singular(word: string): string {
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^s]s$/.test(word)) return word.slice(0, -1);
  return word;
}

/** Names for a domain; the entity defaults to the domain's singular, capitalised. */
export function domainNames(domain: string, entity?: string): DomainNames {
  const type = entity ?? upperFirst(singular(domain));
  const one = lowerFirst(type);
  let many = plural(one);
  if (many === one) many = `${one}List`;
  return { domain, entity: type, one, many, table: snake(many), product: `${kebab(domain)}-catalog`, title: upperFirst(domain) };
}

export function schemaTemplate(n: DomainNames): string {
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@composeDirective", "@listSize", "@authenticated", "@requiresScopes", "@policy"])
  @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification"])
  @composeDirective(name: "@classification")

# @classification and enum ClassificationLevel are defined by the mesh's contract
# (subgraphs/mesh/data-products/governance-directives.ts): the kit and composition add them.
# Every output field is classified (PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED; pii: true for
# personal data). PII and RESTRICTED fields need @authenticated, @requiresScopes or @policy.
# Every list needs @listSize, so demand control can estimate what a query costs. A list that can
# grow is read with a Relay cursor connection (subgraphs/kit/paging.ts): its maximum \`first\` is
# stated in the description ("at most N") and as @listSize(assumedSize: N), which the kit enforces.

"A ${n.one} owned by the ${n.domain} domain (data product ${n.product})."
type ${n.entity} @key(fields: "id") {
  id: ID! @classification(level: PUBLIC)
  name: String! @classification(level: PUBLIC)
  status: ${n.entity}Status! @classification(level: INTERNAL)
  "When the ${n.one} was created, ISO-8601."
  createdAt: String! @classification(level: INTERNAL)
  # Never more than 3 tags (see seed.ts).
  tags: [String!]! @classification(level: PUBLIC)
    @listSize(assumedSize: 3)
}

enum ${n.entity}Status {
  ACTIVE
  ARCHIVED
}

"A page of ${n.many}, ordered by id (a Relay cursor connection)."
type ${n.entity}Connection {
  "The page's ${n.many}, each with its cursor."
  edges: [${n.entity}Edge!]! @classification(level: PUBLIC)
  "The page's ${n.many}, for clients that need no cursor per ${n.one}."
  nodes: [${n.entity}!]! @classification(level: PUBLIC)
  "Whether more ${n.many} follow, and the cursor to ask for them."
  pageInfo: PageInfo! @classification(level: PUBLIC)
}

"One ${n.one} of a page, with the cursor that marks its position."
type ${n.entity}Edge {
  "Opaque: pass it as \`after\` to read the ${n.many} that follow this one."
  cursor: String! @classification(level: PUBLIC)
  node: ${n.entity}! @classification(level: PUBLIC)
}

# Relay's PageInfo, the same in every subgraph (hence @shareable); the platform's type, in no product.
"Where a page of a connection ends (Relay cursor connections). Read on while \`hasNextPage\` is true, passing \`endCursor\` as \`after\`."
type PageInfo @shareable {
  "More rows follow this page."
  hasNextPage: Boolean! @classification(level: PUBLIC)
  "Always false: these connections page forward only (\`first\`/\`after\`), which the Relay spec allows to answer false."
  hasPreviousPage: Boolean! @classification(level: PUBLIC)
  "The first row's cursor; null on an empty page."
  startCursor: String @classification(level: PUBLIC)
  "The last row's cursor, to pass as \`after\` for the next page; null on an empty page."
  endCursor: String @classification(level: PUBLIC)
}

type Query {
  "Every ${n.one}, ordered by id, a page at a time: \`first\` (default 20, at most 100) ${n.many} after the cursor \`after\`. An out-of-range \`first\` or a cursor this field did not issue is a BAD_USER_INPUT error."
  ${n.many}Connection(first: Int = 20, after: String): ${n.entity}Connection! @classification(level: PUBLIC)
    @listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"], assumedSize: 100, requireOneSlicingArgument: false)
  "One ${n.one} by id."
  ${n.one}(id: ID!): ${n.entity} @classification(level: PUBLIC)
  "${upperFirst(n.many)} ordered by id, after the id \`after\`: at most 100 (\`first\` above 100 or below 0 is an error). \`${n.many}Connection\` pages the same list with cursors."
  ${n.many}(first: Int = 20, after: ID): [${n.entity}!]! @classification(level: PUBLIC)
    @listSize(slicingArguments: ["first"], assumedSize: 100, requireOneSlicingArgument: false)
}
`;
}

export function repositoryTemplate(n: DomainNames): string {
  const Repo = `${n.title}Repository`;
  return `import { inList, type SqlDatabase } from '../kit/sql-database.js';

/** One row of the ${n.table} table, as stored. */
export interface ${n.entity}Record {
  id: number;
  name: string;
  status: string;
  created_at: string;
  /** A JSON array of strings. */
  tags: string;
}

/**
 * All of the ${n.domain} domain's data access, behind an interface. The same SQL runs on SQLite (the
 * default) and PostgreSQL (${n.domain.toUpperCase()}_DATABASE_URL): see subgraphs/kit/sql-dialect.ts.
 */
export interface ${Repo} {
  /** One statement for every id a batch asks for. */
  byIds(ids: readonly number[]): Promise<${n.entity}Record[]>;
  list(args: { first: number; after: number }): Promise<${n.entity}Record[]>;
}

/** Bump schemaVersion in index.ts when this changes: the kit rebuilds older databases. */
export const MIGRATION = \`
  CREATE TABLE ${n.table} (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'ARCHIVED')),
    created_at TEXT NOT NULL,
    tags TEXT NOT NULL
  );
\`;

export function sqlite${Repo}(db: SqlDatabase): ${Repo} {
  return {
    async byIds(ids) {
      return db.all('SELECT * FROM ${n.table} WHERE id IN (SELECT value FROM json_each(?))', inList(ids));
    },
    async list({ first, after }) {
      return db.all('SELECT * FROM ${n.table} WHERE id > ? ORDER BY id LIMIT ?', after, first);
    },
  };
}
`;
}

export function seedTemplate(n: DomainNames): string {
  return `import type { SeedOptions } from '../kit/domain.js';
import { Random, isoDateTime, randomInstant } from '../kit/deterministic-random.js';
import type { SqlDatabase } from '../kit/sql-database.js';
import type { ${n.entity}Record } from './repository.js';

const ADJECTIVES = ['Amber', 'Brisk', 'Cobalt', 'Dusky', 'Early', 'Fern', 'Granite', 'Hazel'];
const TAGS = ['new', 'popular', 'seasonal', 'limited', 'classic', 'eco'];

/** 200 ${n.many} at scale 1. */
export const ${n.many.toUpperCase()}_PER_SCALE = 200;

/** One ${n.one} as a pure function of (seed, id): the same in every process and on every run. */
export function generate${n.entity}(seed: number, id: number): ${n.entity}Record {
  const rng = Random.for(seed, '${n.one}', id);
  const tags = [...new Set([rng.pick(TAGS), rng.pick(TAGS), rng.pick(TAGS)])].slice(0, rng.int(0, 3));
  return {
    id,
    name: \`\${rng.pick(ADJECTIVES)} ${n.one} \${id}\`,
    status: rng.chance(0.9) ? 'ACTIVE' : 'ARCHIVED',
    created_at: isoDateTime(randomInstant(rng)),
    tags: JSON.stringify(tags),
  };
}

/** Loads the generated rows on first start (on SQLite or PostgreSQL: the inserter batches them). */
export async function seed${n.title}(db: SqlDatabase, { scale, seed }: SeedOptions): Promise<void> {
  const insert = db.inserter('${n.table}', ['id', 'name', 'status', 'created_at', 'tags']);
  const count = Math.max(1, Math.round(${n.many.toUpperCase()}_PER_SCALE * scale));
  for (let id = 1; id <= count; id++) await insert.add({ ...generate${n.entity}(seed, id) });
  await insert.done();
}
`;
}

export function indexTemplate(n: DomainNames): string {
  const Repo = `${n.title}Repository`;
  return `import { loaderByKey, pageSize, toKey } from '../kit/batch-loaders.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import { checkedAfterId, keyset, type PageArgs } from '../kit/paging.js';
import { MIGRATION, sqlite${Repo}, type ${n.entity}Record, type ${Repo} } from './repository.js';
import { seed${n.title} } from './seed.js';

/** The cap \`@listSize(assumedSize:)\` states in schema.graphql. */
const MAX_PAGE = 100;
/** ${n.many}Connection's cursors: the position of a row in id order (kit/paging.ts validates them). */
const PAGES = keyset({ name: 'Query.${n.many}Connection', kinds: ['int'], keyOf: (row: ${n.entity}Record) => [row.id], defaultFirst: 20, maxFirst: MAX_PAGE });

// Per-request DataLoaders: every entity lookup and relationship goes through one, so a batch of
// keys is one SQL statement. Row-level rules that depend on the caller take \`identity\` here.
const loaders = (repo: ${Repo}) => ({
  ${n.one}: loaderByKey((ids: readonly number[]) => repo.byIds(ids), (row) => row.id),
});

type Context = DomainContext<${Repo}, ReturnType<typeof loaders>>;

// The port comes from this subgraph's routing_url in supergraph.yaml (${n.domain.toUpperCase()}_PORT overrides it).
export default defineDomain({
  name: '${n.domain}',
  description: '${n.title}: the ${n.product} data product',
  module: import.meta.url,
  migrate: MIGRATION,
  seed: seed${n.title},
  repository: sqlite${Repo},
  loaders,
  resolvers: {
    Query: {
      ${n.one}: (_: unknown, { id }: { id: string }, ctx: Context) => ctx.loaders.${n.one}.load(toKey(id)),
      ${n.many}: (_: unknown, args: { first?: number | null; after?: string | null }, ctx: Context) =>
        ctx.repo.list({ first: pageSize(args.first, 20, MAX_PAGE), after: checkedAfterId(args.after) }),
      // One row more than asked: whether a next page exists.
      ${n.many}Connection: async (_: unknown, args: PageArgs, ctx: Context) => {
        const page = PAGES.page(args);
        return PAGES.connection(await ctx.repo.list({ first: page.limit, after: Number(page.after[0] ?? 0) }), page);
      },
    },
    ${n.entity}: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.${n.one}.load(toKey(ref.id)),
      createdAt: (row: ${n.entity}Record) => row.created_at,
      tags: (row: ${n.entity}Record) => JSON.parse(row.tags) as string[],
    },
  },
});
`;
}

export function descriptorTemplate(n: DomainNames): string {
  return `# Data products of the ${n.domain} domain: one YAML document per product (separate them with ---).
# Field names follow ODPS v1.0 and, for the output contract, ODCS v3.1. See docs/data-products.md.
# Generated by npm run new-domain: replace the team, contacts and targets with your own.
apiVersion: v1.0.0
kind: DataProduct
id: ${n.product}
name: ${n.title} catalog
version: 1.0.0
status: active
domain: ${n.domain}
tags: [${n.domain}]
description:
  purpose: Every ${n.one} the ${n.domain} domain owns (name, status, tags).
  usage: Look ${n.many} up by id (${n.entity}.id is the entity key other domains reference).
  limitations: Generated example data until the team replaces it.
team:
  name: ${n.title} Team
  members:
    - username: ${n.domain}-owner
      name: ${n.title} Owner
      role: owner
      email: ${n.domain}-team@example.com
support:
  - channel: ${n.domain}-team@example.com
    tool: email
slaProperties:
  - property: availability
    value: 99.5
    unit: percent
  - property: latency
    value: 100
    unit: ms
    description: p95 of Query.${n.one} through the gateway.
outputPorts:
  - name: graphql
    type: graphql
    description: ${n.entity} entities (key ${n.entity}.id) and the domain's root fields.
    schema:
      - name: Query
        classification: public
        properties:
          - { name: ${n.many}, description: "${upperFirst(n.many)} by id, paged with first and after." }
          - { name: ${n.one}, description: One ${n.one} by id. }
          - { name: ${n.many}Connection, description: "Every ${n.one} by id, a page at a time (Relay cursor connection)." }
      - name: ${n.entity}Connection
        classification: public
        properties:
          - { name: edges }
          - { name: nodes }
          - { name: pageInfo }
      - name: ${n.entity}Edge
        classification: public
        properties:
          - { name: cursor }
          - { name: node }
      - name: ${n.entity}
        physicalName: ${n.table}
        physicalType: table
        classification: public
        properties:
          - name: id
            physicalName: id
            primaryKey: true
            quality:
              - { id: ${kebab(n.one)}-id-unique, metric: duplicateValues, mustBe: 0, severity: critical, dimension: uniqueness }
          - name: name
            physicalName: name
            quality:
              - { id: ${kebab(n.one)}-name-present, metric: nullValues, mustBe: 0, severity: critical, dimension: completeness }
          - name: status
            physicalName: status
            classification: internal
            quality:
              - { id: ${kebab(n.one)}-status-known, metric: invalidValues, arguments: { validValues: [ACTIVE, ARCHIVED] }, mustBe: 0, severity: critical, dimension: validity }
          - { name: createdAt, physicalName: created_at, classification: internal }
          - { name: tags, physicalName: tags }
        quality:
          - { id: ${kebab(n.many)}-row-count, metric: rowCount, mustBeBetween: [1, 10000000], severity: critical, dimension: completeness }
`;
}
