/**
 * Runs the gateway alone, in front of subgraphs that run anywhere:
 *   npm run gateway -- --supergraph supergraph.graphql --port 4000
 * `--supergraph` takes a composed SDL file (from any tool) or a supergraph.yaml to compose at start.
 */
import { parseArgs } from 'node:util';
import { parseNumber } from '../../subgraphs/mesh/numbers.js';
import { startGateway } from '../server/gateway-server.js';
import { loadSupergraph } from '../supergraph/supergraph-source.js';
import { runCli } from './run-cli.js';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      supergraph: { type: 'string', default: process.env.SUPERGRAPH ?? 'supergraph.yaml' },
      port: { type: 'string', default: process.env.GATEWAY_PORT ?? '4000' },
      host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    },
  });
  const supergraph = await loadSupergraph(values.supergraph!);
  const gateway = await startGateway({
    supergraph: supergraph.supergraph,
    port: parseNumber(values.port!, 'GATEWAY_PORT / --port', { integer: true }),
    host: values.host,
  });
  const stop = async () => {
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Announced only once a signal can stop it cleanly: a supervisor may stop it right after this line.
  console.log(`gateway ready: ${gateway.graphqlUrl} (explorer: ${gateway.url}/) from ${supergraph.origin}`);
});
