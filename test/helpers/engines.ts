import { inject } from 'vitest';

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
