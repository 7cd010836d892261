import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { ForwardedIdentity } from '../mesh/identity.js';
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
}

/**
 * The contract a domain team implements. Everything else (HTTP, database lifecycle, seeding on
 * first start, batching scaffolding, health, metrics) is the kit's job.
 */
export interface Domain<Repo = any, Loaders = any> {
  name: string;
  /** One line for the console and the docs. */
  description: string;
  defaultPort: number;
  /** Absolute path of the domain's SDL file. */
  schemaPath: string;
  /** Bump when tables change: the kit rebuilds a database made by an older version. */
  schemaVersion: number;
  migrate(db: SqlDatabase): void;
  seed(db: SqlDatabase, options: SeedOptions): void;
  repository(db: SqlDatabase): Repo;
  /** Per-request loaders; row-level rules that depend on the caller belong here or in the repository. */
  loaders(repo: Repo, identity: ForwardedIdentity): Loaders;
  resolvers: GraphQLResolverMap<SubgraphContext<Repo, Loaders>>;
}

/** Identity function that gives domain modules full type inference. */
export const defineDomain = <Repo, Loaders>(domain: Domain<Repo, Loaders>): Domain<Repo, Loaders> => domain;
