import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { POSTGRES_FAILED, POSTGRES_SEEDED } from './postgres-cluster.js';


/**
 * Resolves once the global setup has seeded the run's PostgreSQL databases (it does so while the
 * first files run); rejects with its error if that failed. A backstop timeout for a loaded machine.
 */
export async function postgresSeeded(timeoutMs = 300_000): Promise<void> {
  const dataDir = inject('dataDir');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(join(dataDir, POSTGRES_SEEDED))) return;
    if (existsSync(join(dataDir, POSTGRES_FAILED))) throw new Error(`seeding the PostgreSQL databases failed:\n${readFileSync(join(dataDir, POSTGRES_FAILED), 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`the PostgreSQL databases were not seeded within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The engines a domain's data can live in; tests that depend on it run on both. */
export type EngineName = 'sqlite' | 'postgresql';

/** The engines every run tests (the global setup starts a PostgreSQL server, or stops the run). */
export function engines(): EngineName[] {
  return ['sqlite', 'postgresql'];
}

/** The run's PostgreSQL database of a domain (the global setup seeded it), or throws when there is none. */
export function postgresUrl(domain: string): string {
  const url = inject('postgres').urls[domain];
  if (!url) throw new Error(`no PostgreSQL database for ${domain} in this run`);
  return url;
}
