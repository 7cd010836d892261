import type { DocumentNode } from 'graphql';
import { dirname, join } from 'node:path';
import type { Logger } from '../../mesh/logger.js';
import { DESCRIPTOR_FILE, type DataProduct } from '../../mesh/data-products/descriptor.js';
import { loadDescriptorFile } from '../../mesh/data-products/descriptor-reader.js';
import type { DataProductsDocument } from '../../mesh/data-products/protocol.js';
import { verdict, type QualityReport } from '../../mesh/data-products/quality-report.js';
import { asOfFrom, runQuality } from './quality.js';
import type { SqlDatabase } from '../sql-database.js';
import { checkDescriptorsAgainstSchema, formatContradiction } from '../../mesh/data-products/schema-check.js';

export interface DataProductsOptions {
  /** The descriptor; default `data-products.yaml` beside the domain's schema. */
  file?: string;
  /** How often quality rules run, in ms (the first run is at start); 0 = only at start. Default MESH_QUALITY_INTERVAL seconds, or 300 s. */
  qualityIntervalMs?: number;
  /** The clock freshness is measured against; default MESH_AS_OF (see asOfFrom). */
  asOf?: Date;
}

export interface DataProductsService {
  readonly products: DataProduct[];
  readonly latest: QualityReport | null;
  /** Runs every rule now and keeps the result as the latest. */
  runQuality(): Promise<QualityReport>;
  document(): DataProductsDocument;
  close(): Promise<void>;
}

export class DescriptorContradictsSchema extends Error {}

/**
 * The kit's side of data products, for one subgraph: loads the domain's descriptor, refuses to
 * start when it contradicts the schema, and runs the quality rules at start and then periodically
 * on a read-only connection of the domain's database (SQLite or PostgreSQL).
 */
export async function startDataProducts(
  subgraph: string,
  schemaPath: string,
  schema: DocumentNode,
  database: SqlDatabase,
  log: Logger,
  options: DataProductsOptions = {},
): Promise<DataProductsService> {
  const file = options.file ?? join(dirname(schemaPath), DESCRIPTOR_FILE);
  const products = loadDescriptorFile(file);
  const contradictions = checkDescriptorsAgainstSchema(subgraph, products, schema);
  if (contradictions.length) {
    throw new DescriptorContradictsSchema(
      `the data product descriptor of ${subgraph} contradicts its schema:\n${contradictions.map((c) => `  - ${formatContradiction(c)}`).join('\n')}`,
    );
  }
  const asOf = options.asOf ?? asOfFrom(process.env.MESH_AS_OF);
  const intervalMs = options.qualityIntervalMs ?? intervalFromEnv(process.env.MESH_QUALITY_INTERVAL);
  const db = await database.readOnly();

  let latest: QualityReport | null = null;
  // A fixed clock (MESH_AS_OF=<instant>, or the synthetic default) stays fixed; "now" moves.
  const clock = () => (process.env.MESH_AS_OF === 'now' && !options.asOf ? new Date() : asOf);
  const keep = (report: QualityReport): QualityReport => {
    latest = report;
    const failed = report.results.filter((r) => r.status !== 'passed');
    const level = verdict(report.results) === 'failed' ? 'warn' : 'info';
    log[level]('data quality checked', {
      products: products.length,
      rules: report.results.length,
      failed: failed.map((r) => `${r.product}/${r.rule}`),
      ms: report.durationMs,
    });
    return report;
  };
  const run = async (): Promise<QualityReport> => keep(await runQuality(db, products, { asOf: clock() }));
  // The first run is at start, before the subgraph answers; every run yields between rules so
  // that requests wait for one statement at most; background runs never overlap.
  let running = false;
  const runInBackground = () => {
    if (running || closed) return;
    running = true;
    runQuality(db, products, { asOf: clock() })
      .then((report) => !closed && keep(report))
      .catch((error: unknown) => log.error('data quality run failed', { error: String(error) }))
      .finally(() => (running = false));
  };
  let closed = false;
  try {
    if (products.length) await run();
  } catch (error) {
    await db.close();
    throw error;
  }
  const timer = products.length && intervalMs > 0 ? setInterval(runInBackground, intervalMs) : null;
  timer?.unref();

  return {
    products,
    get latest() {
      return latest;
    },
    runQuality: run,
    document: () => ({ subgraph, descriptorFile: products.length ? products[0]!.source.file : null, dataProducts: products, quality: latest }),
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await db.close();
    },
  };
}

function intervalFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 300_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`MESH_QUALITY_INTERVAL must be a number of seconds >= 0, got "${value}"`);
  return seconds * 1000;
}
