import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { fileURLToPath } from 'node:url';
import type { ForwardedIdentity } from '../mesh/identity.js';
import type { RequestBudget } from './request-budget.js';
import type { SqlDatabase } from './sql-database.js';

/** What seeding needs to know: how big, and which random stream. */
export interface SeedOptions {
  /** 1 = 5,000 customers, 1,000 products, 50,000 orders; 10 = ten times that. */
  scale: number;
  seed: number;
}

/** Per-request context every resolver receives. */
export interface SubgraphContext<Repo, Loaders> {
  repo: Repo;
  /** Fresh per request, so batches and caches never leak between callers (or identities). */
  loaders: Loaders;
  /** Who is asking, as verified from the gateway's signature: for row-level rules. */
  identity: ForwardedIdentity;
  /**
   * Aborted when the request is no longer wanted (the caller disconnected, the subgraph's deadline
   * passed, a cap was reached): pass it to anything that can be cancelled.
   */
  signal: AbortSignal;
  /** The request's deadline and caps; the kit's SQL layer and resolvers already answer to it. */
  budget: RequestBudget;
}

/**
 * The contract a domain team implements. Everything else (HTTP, database lifecycle, seeding on
 * first start, batching scaffolding, health, metrics) is the kit's job.
 */
export interface Domain<Repo = any, Loaders = any> {
  name: string;
  /** One line for the console and the docs. */
  description: string;
  /** 0 until the registry sets it from the domain's routing_url in supergraph.yaml. */
  defaultPort: number;
  /** Absolute path of the domain's SDL file. */
  schemaPath: string;
  /** Bump when tables change: the kit rebuilds a database made by an older version. */
  schemaVersion: number;
  /** Creates the tables (in a transaction, with `seed`, on first start): SQLite DDL, translated for PostgreSQL. */
  migrate(db: SqlDatabase): Promise<void>;
  seed(db: SqlDatabase, options: SeedOptions): Promise<void>;
  /**
   * Called once per request, with that request's view of the database (its deadline and row cap
   * apply to every statement): keep it cheap, and reach the database through `db` only.
   */
  repository(db: SqlDatabase): Repo;
  /** Per-request loaders; row-level rules that depend on the caller belong here or in the repository. */
  loaders(repo: Repo, identity: ForwardedIdentity): Loaders;
  resolvers: GraphQLResolverMap<SubgraphContext<Repo, Loaders>>;
}

/**
 * The context a domain's resolvers receive, from the kit: annotate resolvers with
 * `type Context = DomainContext<MyRepository, ReturnType<typeof loaders>>` instead of copying one.
 */
export type DomainContext<Repo, Loaders = unknown> = SubgraphContext<Repo, Loaders>;

/** What a domain module writes: a Domain, with the defaults every domain would otherwise repeat. */
export interface DomainDefinition<Repo, Loaders>
  extends Omit<Domain<Repo, Loaders>, 'defaultPort' | 'schemaPath' | 'schemaVersion' | 'migrate' | 'loaders'> {
  /** Default: the port of the domain's routing_url in supergraph.yaml (the registry reads it). */
  defaultPort?: number;
  /** The domain module's `import.meta.url`: its folder holds schema.graphql (and data-products.yaml). */
  module?: string;
  /** Absolute path of the SDL file; default: schema.graphql beside `module`. */
  schemaPath?: string;
  /** Default 1. */
  schemaVersion?: number;
  /** The SQL that creates the domain's tables, or a function that migrates. */
  migrate: string | ((db: SqlDatabase) => Promise<void>);
  /** Default: no loaders. */
  loaders?: (repo: Repo, identity: ForwardedIdentity) => Loaders;
}

/** Fills in the defaults and gives domain modules full type inference. */
export function defineDomain<Repo, Loaders = Record<string, never>>(definition: DomainDefinition<Repo, Loaders>): Domain<Repo, Loaders> {
  const { module, migrate, ...rest } = definition;
  const schemaPath = definition.schemaPath ?? (module ? fileURLToPath(new URL('./schema.graphql', module)) : undefined);
  if (!schemaPath) throw new Error(`domain ${definition.name}: give module: import.meta.url (or schemaPath)`);
  return {
    ...rest,
    defaultPort: definition.defaultPort ?? 0,
    schemaPath,
    schemaVersion: definition.schemaVersion ?? 1,
    migrate: typeof migrate === 'string' ? (db) => db.exec(migrate) : migrate,
    loaders: definition.loaders ?? (() => ({}) as Loaders),
  };
}
