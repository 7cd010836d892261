import { join } from 'node:path';
import { inject } from 'vitest';
import Database from 'better-sqlite3';
import { composeSubgraphs, loadSubgraphSchemas } from '../../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../../gateway/config/supergraph-config.js';
import { mintToken } from '../../gateway/authentication/mint-token.js';
import { DEFAULT_POLICIES_FILE, DEV_JWT_SECRET, type GatewayConfig } from '../../gateway/config/gateway-config.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server/gateway-server.js';
import { DEV_SIGNING_KEY } from '../../subgraphs/mesh/identity.js';
import { DOMAINS } from '../../subgraphs/registry.js';
import { DEFAULT_SEED } from '../../subgraphs/kit/deterministic-random.js';
import type { RequestLimits } from '../../subgraphs/kit/request-budget.js';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/subgraph-server.js';
import { postgresSeeded, postgresUrl, type EngineName } from './engines.js';

export interface GraphQLResponse<T = any> {
  status: number;
  body: { data?: T; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[]; extensions?: Record<string, any> };
}

export interface TestMesh {
  gateway: RunningGateway;
  subgraphs: Record<string, RunningSubgraph>;
  supergraphSdl: string;
  query<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /**
   * Opens a domain's SQLite database read-only, to check answers against the source of truth. On
   * either engine: the PostgreSQL databases hold the same deterministic data, so a PostgreSQL mesh
   * must give the answers SQLite gives.
   */
  database(domain: string): Database.Database;
  close(): Promise<void>;
}

/** The mesh's own development settings: what `npm start` runs with when nothing is configured. */
export const TEST_SECRET = DEV_JWT_SECRET;
export const TEST_SIGNING_KEY = DEV_SIGNING_KEY;
export function testConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    jwt: { secret: TEST_SECRET },
    authorizationMode: 'filter',
    policiesFile: DEFAULT_POLICIES_FILE,
    signingKey: TEST_SIGNING_KEY,
    developmentSecret: true,
    ...overrides,
  };
}

/** A valid token for the test secret. */
export function token(scopes: string[] = [], claims: Record<string, unknown> = {}, subject = 'tester'): Promise<string> {
  return mintToken({ secret: TEST_SECRET, scopes, claims, subject });
}

/** Authorization header for a token that may read everything in the mesh. */
export async function fullAccess(claims: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const t = await token(['customers:pii:read', 'sales:read', 'marketing:consent:read'], { department: 'finance', ...claims });
  return { authorization: `Bearer ${t}` };
}

/** POSTs one GraphQL request and returns status and parsed body. */
export async function postGraphQL<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<T>['body'] };
}

/**
 * The real mesh, in this test process: five subgraphs over HTTP on free ports, each on its own
 * SQLite file (seeded once by the global setup), composed from supergraph.yaml, and the gateway.
 */
export async function startMesh(
  gatewayOptions: Partial<GatewayOptions> = {},
  hooks: {
    onSubgraphRequest?: (subgraph: string, body: { query?: string; variables?: unknown }) => void;
    /** Every subgraph's per-request deadline and caps (defaults: the kit's). */
    subgraphLimits?: Partial<RequestLimits>;
    /** Where the domains' data lives (default sqlite): postgresql uses the run's server (seeded with the same data). */
    engine?: EngineName;
  } = {},
): Promise<TestMesh> {
  const dataDir = inject('dataDir');
  if (hooks.engine === 'postgresql') await postgresSeeded();
  // All five at once (their databases' connections and the listens overlap); none is left running if one fails.
  const started = await Promise.allSettled(
    DOMAINS.map((domain) =>
      startSubgraph(domain, {
        port: 0,
        dbPath: join(dataDir, `${domain.name}.db`),
        database: hooks.engine === 'postgresql' ? { url: postgresUrl(domain.name), poolSize: 4 } : null,
        scale: 1,
        seed: DEFAULT_SEED,
        signingKey: TEST_SIGNING_KEY,
        onRequest: hooks.onSubgraphRequest && ((body) => hooks.onSubgraphRequest!(domain.name, body)),
        limits: hooks.subgraphLimits,
      }),
    ),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close().catch(() => {}) : undefined)));
    throw failed.reason;
  }
  const subgraphs: Record<string, RunningSubgraph> = Object.fromEntries(
    DOMAINS.map((domain, i) => [domain.name, (started[i] as PromiseFulfilledResult<RunningSubgraph>).value]),
  );
  const routingUrls = Object.fromEntries(Object.values(subgraphs).map((s) => [s.name, s.url]));
  const config = loadSupergraphConfig('supergraph.yaml');
  const { supergraphSdl } = composeSubgraphs(await loadSubgraphSchemas(config, { routingUrls }));
  const gateway = await startGateway({ supergraphSdl, port: 0, config: testConfig(), ...gatewayOptions });
  const opened: Database.Database[] = [];
  return {
    gateway,
    subgraphs,
    supergraphSdl,
    query: (query, variables, headers) => postGraphQL(gateway.graphqlUrl, query, variables, headers),
    database(domain) {
      const db = new Database(join(dataDir, `${domain}.db`), { readonly: true });
      opened.push(db);
      return db;
    },
    async close() {
      for (const db of opened) db.close();
      await gateway.close();
      await Promise.all(Object.values(subgraphs).map((s) => s.close().catch(() => {})));
    },
  };
}
