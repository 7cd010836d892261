// A governance product must not phone home: Apollo's gateway reports usage to Apollo's cloud
// unless this is set, so it is set before @apollo/gateway is ever constructed.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';

import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerOptions } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { trace } from '@opentelemetry/api';
import type { GraphQLSchema } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, parseJsonBody, readBody, runGraphQL, searchOf, sendJson, writeGraphQL } from '../../subgraphs/mesh/http.js';
import { listen } from '../../subgraphs/mesh/http-server.js';
import { IdentitySigner } from '../../subgraphs/mesh/identity.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';
import { graphqlSpansPlugin, serveTraced } from '../../subgraphs/mesh/request-spans.js';
import { JwtAuthenticator } from '../authentication/jwt-authenticator.js';
import { RequestIdentities } from '../authentication/request-identity.js';
import { AuthorizingGateway, rejectedStatusPlugin } from '../authorization/authorizing-gateway.js';
import { PolicyBook } from '../authorization/policy-book.js';
import { catalogIdentity, type CatalogOptions } from '../catalog/catalog.js';
import { openAudit, type PrivacyOptions } from '../privacy/privacy.js';
import { gatewayConfigFromEnv, type GatewayConfig } from '../config/gateway-config.js';
import { defaultSettings, parseDuration, subgraphTimeoutMs } from '../config/gateway-settings.js';
import { GatewayExplorer } from '../explorer/gateway-explorer.js';
import { ContractEndpoints, contractExampleQuery } from '../contracts/contract-endpoints.js';
import { contractNameOf } from '../contracts/contracts.js';
import { preparedOperationPlugin } from '../operation/prepared-operation-plugin.js';
import { Supergraph } from '../supergraph/supergraph.js';
import { SupergraphWatcher, type ReloadOutcome, type SupergraphOrigin } from '../supergraph/supergraph-watcher.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { finishRequest, newRecord, requestTelemetryPlugin, type RequestRecord } from '../telemetry/request-telemetry.js';
import { ApqStore } from '../trusted-documents/apq-store.js';
import { TrustedDocuments } from '../trusted-documents/trusted-documents.js';
import { fetchManifests } from '../trusted-documents/manifest-url.js';
import { usagePlugin } from '../usage/usage-plugin.js';
import { Cors } from './cors.js';
import type { GatewayContext } from './gateway-context.js';
import { RequestLifetime } from './cancellation.js';
import { InflightDedup } from './inflight-dedup.js';
import { sharingKey } from './sharing-key.js';
import { Readiness } from './readiness.js';
import { perSupergraphPlugin, perSupergraphPlugins, serveSupergraph, type ServedSupergraph } from './served-supergraph.js';
import { hideSuggestionsPlugin, introspectionCheck } from './schema-details.js';
import { createSubgraphAgent, SubgraphDataSource } from './subgraph-data-source.js';

export interface GatewayOptions {
  /** The composed supergraph: parsed (from loadSupergraph), or its SDL (from our composition, Rover, or any other tool). */
  supergraph?: Supergraph;
  supergraphSdl?: string;
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** Governance settings; read from the environment when absent. */
  config?: GatewayConfig;
  /** How fresh the data product catalog stays (defaults suit production; tests shorten them). */
  catalog?: CatalogOptions;
  /** Where the supergraph comes from, for hot reload (file, supergraph.yaml or URL): watched when given. */
  watch?: SupergraphOrigin;
  /** Masking, audit trail and subject access (e.g. the audit store's path; defaults: the settings). */
  privacy?: PrivacyOptions;
}

export interface RunningGateway {
  url: string;
  graphqlUrl: string;
  port: number;
  /** Reloads the supergraph from its origin now (what SIGHUP does). */
  reload(reason?: string): Promise<ReloadOutcome>;
  /** The outcome of the next reload, however it is triggered. */
  reloads: { next(): Promise<ReloadOutcome> };
  /** Stops accepting, lets requests in flight finish (at most the grace period), then stops. */
  close(gracePeriodMs?: number): Promise<void>;
}

const log = createLogger('gateway');

export { GATEWAY_SERVICE_NAME } from './service-name.js';

/**
 * The gateway's HTTP edge: GraphQL at /graphql (POST, and GET for queries), the explorer for a
 * browser's GET of / and /graphql, and /health. Everything per supergraph is built here once.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const config = options.config ?? gatewayConfigFromEnv(process.env, (m) => log.warn(m));
  const settings = config.settings ?? defaultSettings();
  // Before anything opens: a manifest URL that fails stops the start with nothing to clean up.
  const manifests = settings.persisted_queries.enabled ? await fetchManifests(settings.persisted_queries.manifest_urls ?? []) : [];
  const policies = new PolicyBook(config.policiesFile);
  const identityHeader = catalogIdentity(config.signingKey);
  // One audit log for the gateway's life: every supergraph it serves appends to the same hash chain.
  const audit = openAudit(settings, options.privacy, log);
  const servedWith = (base: Supergraph) =>
    serveSupergraph(base, {
      config,
      settings,
      policies,
      catalogIdentity: identityHeader,
      catalogOptions: options.catalog,
      checks: [introspectionCheck(settings.supergraph.introspection)],
      privacyOptions: options.privacy,
      audit,
      log,
    });
  // Everything per supergraph, swapped whole by a reload; `building` is the one being swapped in.
  let current = await servedWith(options.supergraph ?? Supergraph.fromSdl(options.supergraphSdl ?? ''));
  let building: ServedSupergraph | null = null;
  // Trusted documents and APQ resolve a request's document before the guard; CORS answers preflights.
  const apq = settings.apq.enabled ? new ApqStore() : null;
  const documents = new TrustedDocuments(settings, apq, log, manifests);
  const cors = new Cors(settings.cors);
  const identities = new RequestIdentities(new JwtAuthenticator(config.jwt), new IdentitySigner(config.signingKey), policies.forwardedClaims, policies);
  const readiness = new Readiness(current.base.subgraphs, settings.health_check.readiness.subgraphs, identityHeader, parseDuration(settings.health_check.readiness.interval), log);

  const metrics = new GatewayMetrics();
  metrics.servingSupergraph(current.base.hash, current.loadedAt);
  const accessLog = createLogger('access');
  const subgraphAgent = createSubgraphAgent();
  const dedup = new InflightDedup();
  const routerTimeoutMs = parseDuration(settings.traffic_shaping.router.timeout);
  let pushSupergraph: ((gatewaySdl: string) => void) | null = null;
  const apolloGateway = new ApolloGateway({
    // ApolloGateway cannot enforce SECURITY features and refuses them; we enforce them above it.
    // A supergraph manager: ApolloGateway swaps schema and query planner when we push a new one.
    supergraphSdl: {
      initialize: async ({ update }) => {
        pushSupergraph = update;
        return { supergraphSdl: current.supergraph.gatewaySdl };
      },
    },
    buildService: ({ name, url }) =>
      (building ?? current).catalog.dataSource(name) ??
      (building ?? current).privacy.dataSource(name) ??
      new SubgraphDataSource(name, url!, subgraphAgent, subgraphTimeoutMs(settings, name), (outcome, seconds, code) => {
        metrics.subgraphFetchDuration.observe({ subgraph: name, outcome }, seconds);
        if (code) metrics.subgraphFetchErrors.inc({ subgraph: name, code });
      }),
    logger: { debug: () => {}, info: () => {}, warn: (m) => log.warn(String(m)), error: (m) => log.error(String(m)) },
  });
  const authorizing = new AuthorizingGateway(apolloGateway, (context) => ((context as GatewayContext).served ?? current).authorizer);
  // The main endpoint and each contract's share these options, plugins included: same governance everywhere.
  const apolloOptions = (gateway: GatewayInterface): ApolloServerOptions<GatewayContext> => ({
    gateway,
    includeStacktraceInErrorResponses: false,
    // Our CLIs own SIGINT/SIGTERM (close the HTTP server, stop children, exit 0); Apollo's own
    // handler would race them and re-raise the signal, killing the process mid-shutdown.
    stopOnTerminationSignals: false,
    // Router's parser_max_tokens: graphql-js stops lexing past it (GRAPHQL_PARSE_FAILED, 400).
    parseOptions: settings.limits.parser_max_tokens > 0 ? { maxTokens: settings.limits.parser_max_tokens } : {},
    // APQ (`apq.enabled`): Apollo registers operations in our bounded store, the edge reads them.
    persistedQueries: apq ? { cache: apq } : false,
    // supergraph.introspection is enforced per caller by introspectionCheck; suggestions by the two below.
    introspection: true,
    hideSchemaDetailsFromClientErrors: !settings.supergraph.suggestions,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      // No cache-control header is computed: our subgraph fetches carry no cache hints to combine.
      ApolloServerPluginCacheControlDisabled(),
      // First: the request keeps the supergraph its schema came from, whatever reloads meanwhile.
      {
        async requestDidStart(rc) {
          rc.contextValue.served = servedBySchema.get(rc.schema) ?? current;
          rc.contextValue.contract = contracts.contractOf(rc.schema);
        },
      },
      // Tracing: graphql.parse and graphql.validate spans, the operation's name and type on the request's span.
      graphqlSpansPlugin<GatewayContext>(),
      preparedOperationPlugin<GatewayContext>((context) => context.served ?? current),
      ...(settings.supergraph.suggestions ? [] : [hideSuggestionsPlugin()]),
      // extensions.dataProducts: the products (id, version) each response used, and deprecation warnings.
      perSupergraphPlugin((served) => served.catalog.plugin),
      // extensions.masked and the masked identity forwarded to subgraphs; the audit trail of sensitive reads.
      ...perSupergraphPlugins(current.privacy.plugins.length, (served) => served.privacy.plugins),
      // extensions.cost and the cost log line: the actual cost, from the response.
      perSupergraphPlugin((served) => served.demandControl.plugin),
      // Which coordinates operations used, per day (MESH_USAGE_DB), for `npm run check`.
      usagePlugin(log),
      // The request's record: operation, denials, cost, for its metrics and access-log line.
      requestTelemetryPlugin(metrics, (context) => (context.served ?? current).demandControl.estimateOf(context)),
      rejectedStatusPlugin(),
    ],
  });
  const apollo = new ApolloServer<GatewayContext>(apolloOptions(authorizing));
  // Which supergraph each API schema came from: set as ApolloGateway announces a schema.
  const servedBySchema = new WeakMap<GraphQLSchema, ServedSupergraph>();
  apolloGateway.onSchemaLoadOrUpdate(({ apiSchema }) => void servedBySchema.set(apiSchema, building ?? current));
  await apollo.start();
  // The explorer; on the development secret only (never in production), with personas whose tokens are in the page.
  const explorer = await GatewayExplorer.start({ endpoint: '/graphql', title: 'Data Mesh Explorer', config, settings, authorizer: () => current.authorizer });
  // Contracts (gateway.yaml `contracts`): an endpoint each, at /contracts/<name>/graphql, with its own explorer.
  const contracts = new ContractEndpoints<GatewayContext>((contract) =>
    GatewayExplorer.start({
      endpoint: contract.path,
      title: `Data Mesh Explorer: ${contract.name} contract`,
      config,
      settings,
      authorizer: () => current.authorizer,
      defaultQuery: contractExampleQuery(contract),
    }),
  );
  for (const contract of current.contracts.values()) servedBySchema.set(contract.schema, current);
  // Plugins' server hooks (the usage store's) belong to the main server: contract endpoints share its requests' hooks only.
  await contracts.start(current.contracts, (gateway) => {
    const options = apolloOptions(gateway);
    return new ApolloServer<GatewayContext>({ ...options, plugins: options.plugins!.map((p) => ({ ...p, serverWillStart: undefined })) });
  }, () => authorizing.executor!);

  const prometheus = settings.telemetry.metrics.prometheus;
  const handle = async (req: IncomingMessage, res: ServerResponse, record: RequestRecord) => {
    const path = (req.url ?? '/').split('?')[0];
    // Liveness: the process answers. Readiness: a supergraph is served and the required subgraphs answer.
    if (path === '/health') {
      return sendJson(res, 200, { status: 'ok', supergraph: current.base.hash, subgraphs: current.base.subgraphs.map((s) => s.name) });
    }
    if (path === '/ready') {
      const ready = readiness.ready && !draining;
      return sendJson(res, ready ? 200 : 503, {
        status: ready ? 'ready' : draining ? 'shutting down' : 'not ready',
        supergraph: current.base.hash,
        loadedAt: current.loadedAt.toISOString(),
        // Not counting this /ready request itself.
        requestsInFlight: inFlight - 1,
        subgraphs: readiness.report(),
      });
    }
    if (prometheus.enabled && path === prometheus.path) return serveMetrics(req, res);
    const contractName = contractNameOf(path);
    if (contractName !== null) {
      const contract = current.contracts.get(contractName);
      // Which contracts exist is not told: their names may say who the audiences are.
      if (!contract) throw new HttpError(404, 'NOT_FOUND', `No contract named ${JSON.stringify(contractName.slice(0, 64))}`);
      return serveTraced(req, res, '/contracts/{name}/graphql', () => handleGraphQL(req, res, path, record, contract.name));
    }
    if (path !== '/graphql' && path !== '/') throw new HttpError(404, 'NOT_FOUND', `No route for ${path}; GraphQL is served at /graphql`);
    // The request's SERVER span (tracing on): a child of the client's traceparent, if it sent one.
    return serveTraced(req, res, path === '/' ? '/' : '/graphql', () => handleGraphQL(req, res, path, record));
  };

  /** CORS, the explorer page, then the GraphQL request itself. */
  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, path: string, record: RequestRecord, contract?: string) => {
    // The access log's trace id, when this request is traced.
    const span = trace.getActiveSpan();
    if (span?.isRecording()) record.traceId = span.spanContext().traceId;
    if (cors.handle(req, res)) return;
    if (req.method === 'GET' && wantsHtml(req)) {
      const page = contract ? await contracts.explorer(current.contracts.get(contract)!) : explorer;
      const { body, encoding } = await (await page!.current()).body(req.headers['accept-encoding']);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(encoding ? { 'content-encoding': encoding } : {}), vary: 'accept-encoding' });
      return res.end(body);
    }
    if (path === '/') throw new HttpError(404, 'NOT_FOUND', 'GraphQL is served at /graphql');
    if (req.method !== 'GET' && req.method !== 'POST') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `Use POST (or GET for queries) on ${path}`);
    }
    const bodyText = req.method === 'POST' ? await readBody(req, settings.limits.http_max_request_bytes || Infinity) : undefined;
    const body = bodyText === undefined ? undefined : parseJsonBody(bodyText);
    const params = body === undefined ? new URLSearchParams(searchOf(req)) : null;
    // Trusted documents: an id becomes its body, a body off the safelist is refused, before anything parses it.
    const resolved = isRecord(body) ? documents.resolve(body) : params ? documents.resolveSearch(req, params) : false;
    // Limits before Apollo parses and validates: what they refuse never costs validation time.
    // What they read of the document (once per text) keys in-flight sharing.
    const facts = isRecord(body) ? current.guard.check(body.query, body.operationName) : params ? current.guard.check(params.get('query'), params.get('operationName')) : undefined;
    const raw = (resolved && body ? JSON.stringify(body) : bodyText) ?? searchOf(req);
    // Who asks (a bad token is a 401 here): derived once per token, so every request pays one lookup.
    const identity = await identities.of(req);
    record.subject = typeof identity.caller.claims.sub === 'string' ? identity.caller.claims.sub : null;
    // A contract's path is part of the key: the same text is validated against another schema there.
    const sharingIdentity = contract ? `${identity.sharingKey}\ncontract:${contract}` : identity.sharingKey;
    // traffic_shaping.router.timeout (504 GATEWAY_TIMEOUT) or the client hanging up: either one
    // aborts the request's subgraph fetches (a shared execution's, once all its clients are gone).
    const lifetime = new RequestLifetime(res, routerTimeoutMs);
    let executed = false;
    try {
      const result = await dedup.run(
        sharingKey(req, sharingIdentity, req.method === 'POST' ? body : undefined, raw, facts),
        async (signal) => {
          executed = true;
          const context: GatewayContext = { ...identity, signal, record };
          return runGraphQL(contract ? contracts.apollo(contract)! : apollo, req, async () => context, bodyText, body);
        },
        lifetime.signal,
      );
      if (!executed) record.shared = true;
      await writeGraphQL(res, result);
    } finally {
      lifetime.dispose();
    }
  };

  /** Prometheus text; with `require_scope`, only for a valid token that holds it. */
  const serveMetrics = async (req: IncomingMessage, res: ServerResponse) => {
    if (prometheus.require_scope) {
      const { caller } = await identities.of(req);
      if (!caller.authenticated) throw new HttpError(401, 'UNAUTHENTICATED', `/metrics needs a token with scope ${prometheus.require_scope}`);
      if (!caller.scopes.has(prometheus.require_scope)) throw new HttpError(403, 'FORBIDDEN', `/metrics needs scope ${prometheus.require_scope}`);
    }
    metrics.cacheEntries.set({ cache: 'operations' }, current.operations.size);
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
  };

  // Requests in flight, for a graceful shutdown.
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | null = null;
  const counted = async (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    const record = newRecord();
    if (req.url !== '/health' && req.url !== '/ready' && req.url !== prometheus.path) finishRequest(res, record, metrics, settings.telemetry.access_log, accessLog);
    try {
      await handle(req, res, record);
    } catch (error) {
      if (error instanceof HttpError) record.code = error.code;
      throw error;
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  // The catalog's first fetch of every subgraph's /data-products ran while the rest was built.
  await current.catalog.ready;
  const listening = await listen(counted, {
    port: options.port,
    host: options.host,
    log,
    errorHeaders: (error): Record<string, string> => (error.status === 401 ? { 'www-authenticate': `Bearer error="invalid_token"` } : {}),
  });
  const url = listening.origin;
  readiness.start();
  log.info('gateway listening', { url, supergraph: current.base.hash, subgraphs: current.base.subgraphs.length });

  /** Serves a new supergraph: built aside, pushed to ApolloGateway, then swapped in whole. */
  const apply = async (next: Supergraph) => {
    const served = await servedWith(next);
    await served.catalog.ready;
    building = served;
    try {
      if (!pushSupergraph) throw new Error('the gateway is not loaded');
      pushSupergraph(served.supergraph.gatewaySdl);
      for (const contract of served.contracts.values()) servedBySchema.set(contract.schema, served);
      contracts.update(served.contracts);
    } catch (error) {
      served.catalog.close();
      throw error;
    } finally {
      building = null;
    }
    const previous = current;
    current = served;
    readiness.reset(served.base.subgraphs);
    // Requests in flight keep the previous one (their context holds it); only its refresh timer stops.
    previous.catalog.close();
    previous.privacy.close();
    // What the explorer's personas grant depends on the supergraph.
    await Promise.all([explorer.refresh(), contracts.refreshExplorers()]).catch((error) => log.warn('explorer: personas not recomputed', { error: String(error) }));
  };
  const outcomes: ((outcome: ReloadOutcome) => void)[] = [];
  const watcher = new SupergraphWatcher(options.watch ?? {}, current.base, apply, log, (outcome) => {
    metrics.reloads.inc({ outcome });
    if (outcome === 'reloaded') metrics.servingSupergraph(current.base.hash, current.loadedAt);
    for (const resolve of outcomes.splice(0)) resolve(outcome);
  });
  if (options.watch) watcher.start();

  return {
    url,
    graphqlUrl: `${url}/graphql`,
    port: listening.port,
    reload: (reason = 'on demand') => watcher.reload(reason),
    reloads: { next: () => new Promise<ReloadOutcome>((resolve) => outcomes.push(resolve)) },
    async close(gracePeriodMs = parseDuration(settings.shutdown.grace_period)) {
      // Stop accepting; let what is in flight finish (at most the grace period); then close.
      draining = true;
      watcher.stop();
      readiness.stop();
      listening.server.close();
      listening.server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, gracePeriodMs).unref();
        });
      }
      current.catalog.close();
      await listening.close();
      await apollo.stop();
      await contracts.stop();
      await subgraphAgent.close();
      // Last: every response sent has its audit event in the store.
      current.privacy.close();
      audit?.close();
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A browser navigating to the URL (not a GraphQL client doing a GET query). */
function wantsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html') && !new URLSearchParams(searchOf(req)).has('query');
}
