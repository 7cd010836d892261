/**
 * Runs one domain subgraph: `npm run subgraph -- <domain> [--port N] [--db FILE] [--scale N]`.
 * The kit's CLI with this mesh's domains (the registry); the kit itself imports no domain.
 */
import { runSubgraphCli } from './kit/cli.js';
import { DOMAINS } from './registry.js';

runSubgraphCli(DOMAINS);
