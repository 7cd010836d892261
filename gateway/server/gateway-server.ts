// A governance product must not phone home: Apollo's gateway reports usage to Apollo's cloud
// unless this is set, so it is set before @apollo/gateway is ever constructed.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';

import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, readBody, runGraphQL, searchOf, sendGraphQLError, sendJson, writeGraphQL } from '../../subgraphs/mesh/http.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';
import { AuthenticationError, JwtAuthenticator, type Identity } from '../authentication/jwt-authenticator.js';
import { mintToken } from '../authentication/mint-token.js';
import { Authorizer } from '../authorization/authorizer.js';
import { AuthorizingGateway } from '../authorization/authorizing-gateway.js';
import { PolicyBook } from '../authorization/policy-book.js';
import { stripSecurityLinkPurposes } from '../authorization/strip-security-links.js';
import { gatewayConfigFromEnv, type GatewayConfig } from '../config/gateway-config.js';
import { ExplorerPage } from '../explorer/explorer-page.js';
import { ANONYMOUS_IDENTITY, IdentitySigner, type ForwardedIdentity } from '../../subgraphs/mesh/identity.js';
import type { Caller } from '../authorization/authorizer.js';
import type { GatewayContext } from './gateway-context.js';
import { subgraphsOfSupergraph } from '../supergraph/supergraph-info.js';
import { InflightDedup } from './inflight-dedup.js';
import { createSubgraphAgent, SubgraphDataSource } from './subgraph-data-source.js';
import { catalogIdentity, startCatalog, type CatalogOptions } from '../catalog/catalog.js';

export interface GatewayOptions {
  /** The composed supergraph SDL (from our composition, Rover, or any other tool). */
  supergraphSdl: string;
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** Governance settings; read from the environment when absent. */
  config?: GatewayConfig;
  /** How fresh the data product catalog stays (defaults suit production; tests shorten them). */
  catalog?: CatalogOptions;
}

export interface RunningGateway {
  url: string;
  graphqlUrl: string;
  port: number;
  close(): Promise<void>;
}

const log = createLogger('gateway');

/**
 * The gateway's HTTP edge: GraphQL at /graphql (POST, and GET for queries), the explorer for a
 * browser's GET of / and /graphql, and /health.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const subgraphs = subgraphsOfSupergraph(options.supergraphSdl);
  const supergraphHash = createHash('sha256').update(options.supergraphSdl).digest('hex').slice(0, 16);

  const config = options.config ?? gatewayConfigFromEnv(process.env, (m) => log.warn(m));
  const policies = new PolicyBook(config.policiesFile);
  // The data product catalog joins the graph: its root fields are composed into the supergraph served.
  const catalog = await startCatalog({ supergraphSdl: options.supergraphSdl, identityHeader: catalogIdentity(config.signingKey), options: options.catalog, log });
  // Built once per supergraph: the enforcement index, and the policies it names (all must exist).
  const authorizer = new Authorizer(catalog.supergraphSdl, config.authorizationMode, policies);
  const authenticator = new JwtAuthenticator(config.jwt);
  const signer = new IdentitySigner(config.signingKey);

  const subgraphAgent = createSubgraphAgent();
  const dedup = new InflightDedup();
  const apolloGateway = new ApolloGateway({
    // ApolloGateway cannot enforce SECURITY features and refuses them; we enforce them above it.
    supergraphSdl: stripSecurityLinkPurposes(catalog.supergraphSdl),
    buildService: ({ name, url }) => catalog.dataSource(name) ?? new SubgraphDataSource(name, url!, subgraphAgent),
    logger: { debug: () => {}, info: () => {}, warn: (m) => log.warn(String(m)), error: (m) => log.error(String(m)) },
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway: new AuthorizingGateway(apolloGateway, authorizer),
    includeStacktraceInErrorResponses: false,
    // Our CLIs own SIGINT/SIGTERM (close the HTTP server, stop children, exit 0); Apollo's own
    // handler would race them and re-raise the signal, killing the process mid-shutdown.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      // extensions.dataProducts: the products (id, version) each response used, and deprecation warnings.
      catalog.plugin,
      {
        async requestDidStart() {
          return {
            async willSendResponse({ contextValue, response }) {
              if (contextValue.rejected) response.http.status = 403;
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  const explorer = new ExplorerPage({
    endpoint: '/graphql',
    title: 'Data Mesh Explorer',
    // On the development secret only, the explorer comes with a token that can run the example.
    headers: config.developmentSecret ? { Authorization: `Bearer ${await explorerDevelopmentToken(config, authorizer)}` } : undefined,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      return sendJson(res, 200, { status: 'ok', supergraph: supergraphHash, subgraphs: subgraphs.map((s) => s.name) });
    }
    if (path !== '/graphql' && path !== '/') throw new HttpError(404, 'NOT_FOUND', `No route for ${path}; GraphQL is served at /graphql`);
    if (req.method === 'GET' && wantsHtml(req)) {
      const { body, encoding } = explorer.body(req.headers['accept-encoding']);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(encoding ? { 'content-encoding': encoding } : {}), vary: 'accept-encoding' });
      return res.end(body);
    }
    if (path === '/') throw new HttpError(404, 'NOT_FOUND', 'GraphQL is served at /graphql');
    if (req.method !== 'GET' && req.method !== 'POST') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Use POST (or GET for queries) on /graphql');
    }
    const bodyText = req.method === 'POST' ? await readBody(req) : undefined;
    const operation = bodyText ?? searchOf(req);
    const result = await dedup.run(req, operation, async () => {
      const context = await requestContext(req);
      return runGraphQL(apollo, req, async () => context, bodyText);
    });
    await writeGraphQL(res, result);
  };

  /**
   * What the gateway needs from a verified identity, derived once per token: the authenticator
   * hands back the same Identity object for a token it has verified, so the scopes set, the
   * forwarded identity and (through the signer's cache) its signed header are not rebuilt per request.
   */
  const ANONYMOUS = { caller: { authenticated: false, scopes: new Set<string>(), claims: {} }, forwarded: ANONYMOUS_IDENTITY };
  const derived = new WeakMap<Identity, { caller: Omit<Caller, 'purpose'>; forwarded: ForwardedIdentity }>();
  const derive = (identity: Identity | null) => {
    if (!identity) return ANONYMOUS;
    let entry = derived.get(identity);
    if (!entry) {
      const claims = Object.fromEntries(policies.forwardedClaims.filter((c) => identity.claims[c] !== undefined).map((c) => [c, identity.claims[c]]));
      entry = {
        caller: { authenticated: true, scopes: new Set(identity.scopes), claims: identity.claims },
        forwarded: { authenticated: true, subject: identity.subject, scopes: identity.scopes, claims },
      };
      derived.set(identity, entry);
    }
    return entry;
  };

  /** Authenticates the caller (an invalid token is a 401, never anonymous) and signs what subgraphs will see. */
  const requestContext = async (req: IncomingMessage): Promise<GatewayContext> => {
    let identity;
    try {
      identity = await authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) throw new HttpError(error.code === 'TOKEN_VERIFICATION_UNAVAILABLE' ? 503 : 401, error.code, error.message);
      throw error;
    }
    const { caller, forwarded } = derive(identity);
    const purpose = req.headers['x-data-purpose'];
    return {
      caller: { ...caller, purpose: typeof purpose === 'string' ? purpose : '' },
      identityHeader: await signer.header(forwarded),
      unauthorizedCount: 0,
    };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError) {
        return sendGraphQLError(res, error, error.status === 401 ? { 'www-authenticate': `Bearer error="invalid_token"` } : {});
      }
      log.error('request failed', { error: String(error) });
      sendGraphQLError(res, new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    });
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  log.info('gateway listening', { url, supergraph: supergraphHash, subgraphs: subgraphs.length });

  return {
    url,
    graphqlUrl: `${url}/graphql`,
    port,
    async close() {
      catalog.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await subgraphAgent.close();
    },
  };
}

/** A 12-hour token holding every scope the supergraph names, plus the finance department claim. */
function explorerDevelopmentToken(config: GatewayConfig, authorizer: Authorizer): Promise<string> {
  const scopes = new Set<string>();
  for (const r of [...authorizer.index.fields.values(), ...authorizer.index.types.values()]) for (const all of r.scopes ?? []) for (const s of all) scopes.add(s);
  return mintToken({
    secret: config.jwt.secret!,
    subject: 'explorer-developer',
    scopes: [...scopes].sort(),
    claims: { department: 'finance' },
    expiresIn: '12h',
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
}

/** A browser navigating to the URL (not a GraphQL client doing a GET query). */
function wantsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html') && !new URLSearchParams(searchOf(req)).has('query');
}
