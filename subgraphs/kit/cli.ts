/**
 * Runs one domain subgraph: `npm run subgraph -- <domain> [--port N] [--db FILE] [--scale N]`.
 */
import { parseArgs } from 'node:util';
import { domainByName } from '../registry.js';
import { SettingsError } from '../mesh/numbers.js';
import { subgraphSettings } from './settings.js';
import { startSubgraph } from './subgraph-server.js';

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      'data-dir': { type: 'string' },
      scale: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new SettingsError('usage: npm run subgraph -- <domain> [--port N] [--db FILE] [--scale N]');
  const domain = domainByName(positionals[0]!);
  const settings = subgraphSettings(domain, { ...values, dataDir: values['data-dir'] });
  const subgraph = await startSubgraph(domain, settings).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new SettingsError(`port ${settings.port} is already in use; choose another with ${domain.name.toUpperCase()}_PORT or --port`);
    }
    throw error;
  });
  const stop = async () => {
    await subgraph.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by `npm start`: if that supervisor goes away, so do we.
  if (process.send) process.once('disconnect', stop);
}

main().catch((error: Error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
