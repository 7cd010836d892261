import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The order in which the two workers take the test files: the longest first, so that the last
 * files to start are short ones and both workers finish at about the same time (a long file taken
 * last would run alone at the end). Vitest's default orders by the durations of the previous run
 * in its cache (node_modules/.vite), else by file size: on a fresh machine (CI) the 80-line
 * benchmark test, one of the longest, would start last. These are each file's seconds in a full
 * run on a 2-core machine, approximate (only the order matters: re-measure when it changes much,
 * e.g. with a reporter's per-file times); a file not listed is taken first, as vitest does with
 * a file it has never run, and belongs in the list. The first file of each worker also pays for
 * loading the dependencies once.
 */
export const EXPECTED_SECONDS: Record<string, number> = {
  'test/explorer.test.ts': 79,
  'test/build.test.ts': 49,
  'test/new-domain.test.ts': 32,
  'test/bench.test.ts': 30,
  'test/tracing.test.ts': 19,
  'test/gateway-workers.test.ts': 18,
  'test/audit.test.ts': 13,
  'test/start-mesh.test.ts': 13,
  'test/no-wedged-domain.test.ts': 12,
  'test/compose.test.ts': 11,
  'test/hot-reload.test.ts': 11,
  'test/cli-help.test.ts': 11,
  'test/postgres.test.ts': 10,
  'test/paging.test.ts': 9,
  'test/contracts.test.ts': 9,
  'test/batching.test.ts': 9,
  'test/row-level-walk.test.ts': 8,
  'test/readiness-shutdown.test.ts': 7,
  'test/check.test.ts': 6,
  'test/row-level.test.ts': 5,
  'test/authorization/matrix.test.ts': 4,
  'test/quality.test.ts': 4,
  'test/manifest-url.test.ts': 3,
  'test/authorization/authentication.test.ts': 3,
  'test/cors-and-schema-details.test.ts': 3,
  'test/masking.test.ts': 3,
  'test/purposes.test.ts': 2,
  'test/data-products-catalog.test.ts': 2,
  'test/authorization/mesh-governance.test.ts': 2,
  'test/readme-examples.test.ts': 2,
  'test/consent.test.ts': 2,
  'test/authorization/review.test.ts': 2,
  'test/mesh.test.ts': 2,
  'test/trusted-documents.test.ts': 2,
  'test/hostile-requests.test.ts': 2,
  'test/metrics.test.ts': 1,
  'test/data-products-extensions.test.ts': 1,
  'test/demand-control.test.ts': 1,
  'test/partial-result.test.ts': 1,
  'test/governance-rules.test.ts': 1,
  'test/subject-access.test.ts': 1,
  'test/data-products-descriptor.test.ts': 1,
  'test/authorization/filter.test.ts': 1,
  'test/compose-introspection.test.ts': 1,
  'test/sales-trends.test.ts': 1,
  'test/inflight-dedup.test.ts': 1,
  'test/architecture.test.ts': 1,
  'test/subgraph-transport.test.ts': 1,
};

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (file: TestSpecification) => EXPECTED_SECONDS[relative(file.project.config.root, file.moduleId).replace(/\\/g, '/')] ?? Infinity;
    return [...files].sort((a, b) => seconds(b) - seconds(a) || a.moduleId.localeCompare(b.moduleId));
  }
}
