import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './helpers/sequencer.js';

// graphql 16 ships CJS (`main`) and ESM (`module`) builds. Node (and so Apollo) loads the CJS one;
// Vite would hand our code the ESM one, and two GraphQLError classes break `instanceof` checks.
const graphqlEntry = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Each file starts real servers; 2 cores, so two files at a time.
    maxWorkers: 2,
    // A worker runs file after file in one process: the dependencies (@apollo/gateway, graphql…) are
    // loaded once per worker, not once per file. Each file still closes what it starts.
    isolate: false,
    // The longest files first, so the two workers finish together (test/helpers/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Test gateways do not write their traffic into the developer's usage store (./data/usage.db).
    // Their audit events go to a store of this run, outside the repository (the audit tests use their own).
    env: { LOG_LEVEL: 'warn', MESH_USAGE_DB: 'off', MESH_AUDIT_DB: join(tmpdir(), `data-mesh-test-audit-${process.pid}`, 'audit.db') },
  },
});
