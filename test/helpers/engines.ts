import { describe, inject, it } from 'vitest';

/** The engines a domain's data can live in; tests that depend on it run on both. */
export type EngineName = 'sqlite' | 'postgresql';

/**
 * The engines this run can test: both when the global setup started a PostgreSQL server.
 * Without one (PostgreSQL not installed on a developer's machine), the PostgreSQL variants are
 * reported as skipped, with the reason in their name.
 */
export function engines(): EngineName[] {
  if (inject('postgres')) return ['sqlite', 'postgresql'];
  describe.skip('postgresql (SKIPPED: PostgreSQL is not installed here; apt-get install postgresql)', () => {
    it('runs on PostgreSQL', () => {});
  });
  return ['sqlite'];
}

/** The run's PostgreSQL database of a domain (the global setup seeded it), or throws when there is none. */
export function postgresUrl(domain: string): string {
  const postgres = inject('postgres');
  const url = postgres?.urls[domain];
  if (!url) throw new Error(`no PostgreSQL database for ${domain} in this run`);
  return url;
}
