import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { DOMAINS } from '../../subgraphs/registry.js';
import { openDomainDatabase } from '../../subgraphs/kit/database-lifecycle.js';
import { DEFAULT_SEED } from '../../subgraphs/kit/deterministic-random.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';

/**
 * Seeds every domain's database once per run (default scale, default seed), so test files can
 * open them side by side without racing to create them. Each run has its own directory (seeding
 * takes a few seconds): two runs at once, or one stopped mid-seed, never share half-built files.
 */
export default function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), `data-mesh-test-${DEFAULT_SEED}-`));
  for (const domain of DOMAINS) {
    openDomainDatabase(domain, join(dataDir, `${domain.name}.db`), { scale: 1, seed: DEFAULT_SEED }, createLogger('test-setup')).close();
  }
  project.provide('dataDir', dataDir);
  return () => rmSync(dataDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    dataDir: string;
  }
}
