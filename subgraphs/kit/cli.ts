/**
 * The command line of one domain subgraph, for any list of domains:
 * `<entry> <domain> [--port N] [--db FILE] [--scale N]`. The kit knows no domain itself: the entry
 * point (subgraphs/cli.ts, run by `npm run subgraph`) passes the registry's list.
 */
import { parseArgs } from 'node:util';
import { SettingsError } from '../mesh/numbers.js';
import type { Domain } from './domain.js';
import { subgraphSettings } from './settings.js';
import { startSubgraph } from './subgraph-server.js';

function domainByName(domains: readonly Domain[], name: string): Domain {
  const domain = domains.find((d) => d.name === name);
  if (!domain) throw new Error(`Unknown subgraph "${name}". Known: ${domains.map((d) => d.name).join(', ')}`);
  return domain;
}

async function main(domains: readonly Domain[], args: string[]) {
  const { values, positionals } = parseArgs({
    args,
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
  const domain = domainByName(domains, positionals[0]!);
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

/** Runs the subgraph named on the command line (one of `domains`) until SIGINT/SIGTERM; exits 1 on error. */
export function runSubgraphCli(domains: readonly Domain[], args: string[] = process.argv.slice(2)): void {
  main(domains, args).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
