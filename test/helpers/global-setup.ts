import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { DOMAINS } from '../../subgraphs/registry.js';
import { openDomainDatabase } from '../../subgraphs/kit/database-lifecycle.js';
import { DEFAULT_SEED } from '../../subgraphs/kit/deterministic-random.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';
import { POSTGRES_FAILED, POSTGRES_SEEDED, postgresBin, startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';

/**
 * Seeds every domain's database once per run (default scale, default seed), so test files can
 * open them side by side without racing to create them. Each run has its own directory (seeding
 * takes a few seconds): two runs at once, or one stopped mid-seed, never share half-built files.
 *
 * It also starts a throwaway PostgreSQL server with one database per domain (mesh_<domain>),
 * seeded the same way (after the setup returns, while the first files run), for the tests that
 * run on both engines. PostgreSQL is required, as Chromium is: without its binaries the run stops
 * at once and says how to install them.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('test-setup');
  const dataDir = mkdtempSync(join(tmpdir(), `data-mesh-test-${DEFAULT_SEED}-`));
  const bin = postgresBin();
  let cluster: PostgresCluster | null = null;
  let pgSeeding: Promise<void> | null = null;
  const teardown = async () => {
    await pgSeeding;
    cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (!bin) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the tests run every domain on it too. Install it with `apt-get install postgresql` (.ci/run does).');
    // The SQLite files are seeded while initdb and the server start (other processes).
    // allSettled: a failure reports once everything started has finished.
    const outcomes = await Promise.allSettled([
      (async () => {
        for (const domain of DOMAINS) await (await openDomainDatabase(domain, join(dataDir, `${domain.name}.db`), SEED, log)).close();
      })(),
      (async () => {
        cluster = await startPostgresCluster(bin, DOMAINS.map((d) => `mesh_${d.name}`));
      })(),
    ]);
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    // The PostgreSQL databases are seeded while the first test files run (most never use them):
    // a file that does waits for the marker (postgresSeeded in engines.ts).
    pgSeeding = seedPostgres(cluster!, dataDir, log);
  } catch (error) {
    await teardown();
    throw error;
  }
  project.provide('dataDir', dataDir);
  const server = cluster!;
  project.provide('postgres', { urls: Object.fromEntries(DOMAINS.map((d) => [d.name, server.url(`mesh_${d.name}`)])), admin: server.url('postgres') });
  return teardown;
}

const SEED = { scale: 1, seed: DEFAULT_SEED };

/**
 * Seeds every domain's PostgreSQL database, then writes the marker the test files wait for
 * (POSTGRES_SEEDED, or POSTGRES_FAILED with the error). Never rejects: a failure is the marker's.
 */
async function seedPostgres(cluster: PostgresCluster, dataDir: string, log: ReturnType<typeof createLogger>): Promise<void> {
  try {
    await Promise.all(DOMAINS.map(async (domain) => (await openDomainDatabase(domain, { url: cluster.url(`mesh_${domain.name}`), poolSize: 2 }, SEED, log)).close()));
    writeFileSync(join(dataDir, POSTGRES_SEEDED), '');
  } catch (error) {
    writeFileSync(join(dataDir, POSTGRES_FAILED), (error as Error).stack ?? String(error));
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    dataDir: string;
    /** The run's PostgreSQL server: each domain's seeded database, and the admin database. */
    postgres: { urls: Record<string, string>; admin: string };
  }
}
