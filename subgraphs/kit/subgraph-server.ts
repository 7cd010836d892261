import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'graphql';
import { HttpError, readBody, runGraphQL, sendGraphQLError, sendJson, writeGraphQL } from '../mesh/http.js';
import { listen } from '../mesh/http-server.js';
import { subgraphMetrics } from './subgraph-metrics.js';
import { withGovernanceDefinitions } from '../mesh/data-products/governance-directives.js';
import { loadersForRequest } from './batch-loaders.js';
import { openDomainDatabase } from './database-lifecycle.js';
import { withMasking } from './masking.js';
import { DEFAULT_REQUEST_LIMITS, guardResolvers, RequestBudget, type RequestLimits, type StopReason } from './request-budget.js';
import type { Domain, SeedOptions, SubgraphContext } from './domain.js';
import { IdentityError, IdentityVerifier, IDENTITY_HEADER, signingKeyFromEnv, type ForwardedIdentity } from '../mesh/identity.js';
import { createLogger } from '../mesh/logger.js';
import { graphqlSpansPlugin, serveTraced } from '../mesh/request-spans.js';
import type { SqlDatabase } from './sql-database.js';
import type { PostgresSettings } from './postgres-database.js';
import { startDataProducts, type DataProductsOptions, type DataProductsService } from './data-products/service.js';
import { DATA_PRODUCTS_PATH } from '../mesh/data-products/protocol.js';

export interface SubgraphOptions extends SeedOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** The SQLite file; unused when `database` is set. */
  dbPath: string;
  /** The domain's PostgreSQL database (`<DOMAIN>_DATABASE_URL`); null or absent: SQLite at dbPath. */
  database?: PostgresSettings | null;
  /** Shared with the gateway; defaults to MESH_SIGNING_KEY (or the development key). */
  signingKey?: string;
  /** Called with every GraphQL request body the subgraph accepts (tests record what the gateway asked). */
  onRequest?: (body: { query?: string; variables?: unknown }) => void;
  /** Descriptor location, quality interval and clock (defaults: beside the schema, MESH_QUALITY_INTERVAL, MESH_AS_OF). */
  dataProducts?: DataProductsOptions;
  /** Each request's deadline, row cap and response size cap (defaults: DEFAULT_REQUEST_LIMITS). */
  limits?: Partial<RequestLimits>;
}

export interface RunningSubgraph {
  name: string;
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4001/graphql */
  url: string;
  port: number;
  db: SqlDatabase;
  /** GraphQL requests served (the benchmark divides SQL statements by this). */
  requestsServed: () => number;
  /** GraphQL requests still executing (a stopped request leaves once its work has ended). */
  requestsInFlight: () => number;
  /** The domain's data products and their latest quality results (served at GET /data-products). */
  dataProducts: DataProductsService;
  close(): Promise<void>;
}

/**
 * Runs one domain as a federation subgraph over HTTP: `/graphql`, `/health`, `/metrics`.
 * The domain brings schema, resolvers, data access and seed; this brings the rest.
 *
 * Every GraphQL request runs under a RequestBudget: it stops (and stops issuing SQL) when the
 * caller disconnects, its deadline passes, or it reads too many rows or builds too large a
 * response, and then answers with one coded error instead of data.
 */
export async function startSubgraph(domain: Domain, options: SubgraphOptions): Promise<RunningSubgraph> {
  const log = createLogger(`subgraph:${domain.name}`);
  const db = await openDomainDatabase(domain, options.database ?? options.dbPath, options, log);
  // The mesh's governance definitions (@classification) come from the contract, not each schema.
  const typeDefs = withGovernanceDefinitions(parse(readFileSync(domain.schemaPath, 'utf8')));
  // Refuses to start when the descriptor contradicts the schema; runs quality rules now and periodically.
  let dataProducts: DataProductsService;
  try {
    dataProducts = await startDataProducts(domain.name, domain.schemaPath, typeDefs, db, log, options.dataProducts);
  } catch (error) {
    await db.close();
    throw error;
  }

  const apollo = new ApolloServer<SubgraphContext<unknown, unknown>>({
    // Masks (from the descriptor) apply to the fields the gateway says this caller sees masked.
    schema: guardResolvers(withMasking(buildSubgraphSchema([{ typeDefs, resolvers: domain.resolvers }]), dataProducts.products, typeDefs)),
    // graphqlSpansPlugin: graphql.parse / graphql.validate spans and the operation on the request's span (tracing on).
    // Cache control off: no schema sets cache hints, and its hook ran for every field resolved.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), graphqlSpansPlugin()],
    // The gateway is the public edge; stack traces stay inside.
    includeStacktraceInErrorResponses: false,
    // Our CLIs own SIGINT/SIGTERM (close the HTTP server, stop children, exit 0); Apollo's own
    // handler would race them and re-raise the signal, killing the process mid-shutdown.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  let requests = 0;
  let inFlight = 0;
  const stopped: Record<StopReason, number> = { timeout: 0, cancelled: 0, rows: 0, bytes: 0 };
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const verifier = new IdentityVerifier(options.signingKey ?? signingKeyFromEnv(process.env, (m) => log.warn(m)));

  const metrics = subgraphMetrics(domain.name, {
    statements: () => db.statementsExecuted,
    requests: () => requests,
    inFlight: () => inFlight,
    stopped: () => stopped,
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return sendJson(res, 200, { status: 'ok', subgraph: domain.name });
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (path !== '/graphql' && path !== '/' && path !== DATA_PRODUCTS_PATH) throw new HttpError(404, 'NOT_FOUND', `No route for ${path}`);
    // The gateway's catalog reads descriptors and the latest quality results here.
    if (path === DATA_PRODUCTS_PATH) {
      await verified(req);
      return sendJson(res, 200, dataProducts.document());
    }
    // The request's SERVER span (tracing on), a child of the gateway's fetch span through `traceparent`.
    return serveTraced(req, res, path, () => handleGraphQL(req, res));
  };

  /** No signed identity, no data: the gateway is the only way in. */
  const verified = (req: IncomingMessage): Promise<ForwardedIdentity> =>
    verifier.verify(req.headers[IDENTITY_HEADER]).catch((error: unknown) => {
      if (error instanceof IdentityError) throw new HttpError(401, error.code, error.message);
      throw error;
    });

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse) => {
    const identity = await verified(req);
    requests++;
    const bodyText = req.method === 'POST' ? await readBody(req) : undefined;
    if (options.onRequest && bodyText) {
      try {
        options.onRequest(JSON.parse(bodyText));
      } catch {
        // A malformed body is answered by executeGraphQL below.
      }
    }
    const budget = new RequestBudget(limits, domain.name);
    budget.onBatch = (keys) => metrics.batchSize.observe(keys);
    const started = performance.now();
    res.once('close', () => metrics.requestDuration.observe({ outcome: res.writableFinished ? 'ok' : 'abandoned' }, (performance.now() - started) / 1000));
    // The gateway hung up (gave up, or its own client did): nobody will read the answer.
    res.once('close', () => {
      if (!res.writableFinished) budget.stop('cancelled');
    });
    const context = async (): Promise<SubgraphContext<unknown, unknown>> => {
      const repo = domain.repository(db.forRequest(budget));
      return { repo, identity, loaders: loadersForRequest(budget, () => domain.loaders(repo, identity)), signal: budget.signal, budget };
    };
    inFlight++;
    try {
      const result = await runGraphQL(apollo, req, context, bodyText);
      const refusal = typeof result.body === 'string' ? budget.refuseResponse(result.body) : budget.stopped;
      if (!refusal) return await writeGraphQL(res, result);
      stopped[refusal.reason]++;
      if (refusal.reason !== 'cancelled') log.warn('request stopped', { code: refusal.code, rows: budget.rows, responseBytesCounted: budget.bytes });
      // One coded error, no data: the gateway reports this subgraph's fields as failed with the code.
      if (!res.destroyed) sendGraphQLError(res, refusal);
    } finally {
      inFlight--;
      budget.dispose();
    }
  };

  const listening = await listen(handle, { port: options.port, host: options.host, log });
  const { port } = listening;
  const url = `${listening.origin}/graphql`;
  log.info('subgraph listening', { url });

  return {
    name: domain.name,
    url,
    port,
    db,
    requestsServed: () => requests,
    requestsInFlight: () => inFlight,
    dataProducts,
    async close() {
      await dataProducts.close();
      await listening.close();
      await apollo.stop();
      await db.close();
    },
  };
}
