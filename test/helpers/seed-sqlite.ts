/**
 * `node --import tsx test/helpers/seed-sqlite.ts DIR`: seeds every domain's SQLite database in DIR
 * (default scale and seed). The global setup runs it as a child process: better-sqlite3 seeds
 * synchronously, so in the setup's own thread it would stall the PostgreSQL seeding beside it.
 */
import { join } from 'node:path';
import { DOMAINS } from '../../subgraphs/registry.js';
import { openDomainDatabase } from '../../subgraphs/kit/database-lifecycle.js';
import { DEFAULT_SEED } from '../../subgraphs/kit/deterministic-random.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: seed-sqlite.ts DIR');
const log = createLogger('test-setup');
for (const domain of DOMAINS) await (await openDomainDatabase(domain, join(dir, `${domain.name}.db`), { scale: 1, seed: DEFAULT_SEED }, log)).close();
