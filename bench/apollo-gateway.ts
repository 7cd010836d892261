/**
 * The baseline: plain `@apollo/gateway` + `@apollo/server` as their docs deploy them
 * (startStandaloneServer), over the same supergraph, with no governance layer of ours.
 *
 *   node --import tsx bench/apollo-gateway.ts --supergraph FILE --port N
 *
 * The supergraph must already have its `for: SECURITY` link purposes removed (the harness does
 * it): @apollo/gateway refuses them. BENCH_SUBGRAPH_HEADERS (JSON) are sent to every subgraph; a
 * client's own `x-mesh-identity` (the benchmark's "distinct callers") is relayed instead.
 */
process.env.APOLLO_TELEMETRY_DISABLED = 'true';

import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { supergraph: { type: 'string' }, port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
if (!values.supergraph || !values.port) {
  console.error('usage: apollo-gateway.ts --supergraph FILE --port N');
  process.exit(2);
}
const subgraphHeaders = Object.entries(JSON.parse(process.env.BENCH_SUBGRAPH_HEADERS ?? '{}') as Record<string, string>);
const IDENTITY_HEADER = 'x-mesh-identity';
type Context = { identity?: string };

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(values.supergraph, 'utf8'),
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource<Context>({
      url,
      willSendRequest({ request, context }) {
        for (const [name, value] of subgraphHeaders) request.http?.headers.set(name, value);
        if (context.identity) request.http?.headers.set(IDENTITY_HEADER, context.identity);
      },
    }),
});
const server = new ApolloServer<Context>({ gateway, plugins: [ApolloServerPluginLandingPageDisabled()] });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(values.port), host: values.host },
  context: async ({ req }) => ({ identity: typeof req.headers[IDENTITY_HEADER] === 'string' ? req.headers[IDENTITY_HEADER] : undefined }),
});
console.log(`apollo gateway ready at ${url}`);

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
