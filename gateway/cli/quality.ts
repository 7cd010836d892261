/**
 * `npm run quality [-- --domain sales --product order-history --data-dir ./data --as-of now --json]`
 *
 * Runs every data product's quality rules (from each domain's data-products.yaml) as SQL against
 * the domain's database, read-only, and prints one row per rule. Exits 1 when a critical rule
 * fails or cannot run; warnings are reported but do not fail the run.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { DescriptorError, DESCRIPTOR_FILE } from '../../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile } from '../../subgraphs/mesh/data-products/descriptor-reader.js';
import { AsOfError, asOfFrom, runQuality, SYNTHETIC_AS_OF } from '../../subgraphs/kit/data-products/quality.js';
import type { QualityReport, QualityResult } from '../../subgraphs/mesh/data-products/quality-report.js';
import { databaseUrlVariable, subgraphSettings } from '../../subgraphs/kit/settings.js';
import { PostgresDatabase } from '../../subgraphs/kit/postgres-database.js';
import { SettingsError } from '../../subgraphs/mesh/numbers.js';
import { DOMAINS } from '../../subgraphs/registry.js';
import { ConfigError } from '../config/config-error.js';
import { runCli } from './run-cli.js';

export async function main(args: string[], io: CliIo): Promise<number | void> {
  const { values } = parseCliOrThrow({
    usage: 'npm run quality -- [--domain NAME]... [--product ID]... [--data-dir DIR] [--as-of now] [--json]',
    summary: `Runs every data product's quality rules (from each domain's data-products.yaml) as read-only SQL
against the domain's database and prints one row per rule. Exit code 1 when a critical rule fails or
cannot run; warnings are reported but do not fail the run.`,
    options: {
      domain: { type: 'string', value: 'NAME', multiple: true, description: 'only this domain' },
      product: { type: 'string', value: 'ID', multiple: true, description: 'only this data product' },
      'data-dir': { type: 'string', value: 'DIR', description: 'where the databases are (default: DATA_DIR, else ./data)' },
      db: { type: 'string', value: 'FILE', description: "one domain's database file (with exactly one --domain)" },
      'as-of': { type: 'string', value: 'WHEN', description: "the clock for freshness: synthetic (the seed data's), now, or an ISO instant (env MESH_AS_OF)" },
      json: { type: 'boolean', default: false, description: 'print the reports as JSON' },
    },
    examples: ['npm run quality', 'npm run quality -- --domain sales --product order-history --as-of now'],
  }, args);
  const unknown = (values.domain ?? []).filter((d) => !DOMAINS.some((x) => x.name === d));
  if (unknown.length) throw new ConfigError('--domain', null, `unknown domain ${unknown.join(', ')} (known: ${DOMAINS.map((d) => d.name).join(', ')})`);
  const domains = values.domain ? DOMAINS.filter((d) => values.domain!.includes(d.name)) : DOMAINS;
  if (values.db && domains.length !== 1) throw new ConfigError('--db', null, 'names one database: use it with exactly one --domain');
  let asOf: Date;
  try {
    asOf = asOfFrom(values['as-of'] ?? process.env.MESH_AS_OF);
  } catch (error) {
    if (error instanceof AsOfError) throw new ConfigError('--as-of', null, error.message);
    throw error;
  }

  const reports: { domain: string; database: string; report: QualityReport }[] = [];
  for (const domain of domains) {
    let settings;
    try {
      settings = subgraphSettings(domain, { dataDir: values['data-dir'], db: values.db });
    } catch (error) {
      if (error instanceof SettingsError) throw new ConfigError('environment', null, error.message);
      throw error;
    }
    const descriptor = join(dirname(domain.schemaPath), DESCRIPTOR_FILE);
    let products;
    try {
      products = loadDescriptorFile(descriptor);
    } catch (error) {
      if (error instanceof DescriptorError) throw new ConfigError(`${error.file}${error.line ? `:${error.line}` : ''}`, error.key, error.problem);
      throw error;
    }
    const selected = values.product ? products.filter((p) => values.product!.includes(p.id)) : products;
    if (selected.length === 0) continue;
    if (settings.database) {
      // <DOMAIN>_DATABASE_URL: the domain's data lives in PostgreSQL.
      const db = await PostgresDatabase.connect(settings.database, { domain: domain.name, variable: databaseUrlVariable(domain.name) }).catch((error: Error) => {
        throw new ConfigError('environment', databaseUrlVariable(domain.name), error.message);
      });
      const readOnly = await db.readOnly();
      try {
        reports.push({ domain: domain.name, database: db.location, report: await runQuality(readOnly, selected, { asOf }) });
      } finally {
        await readOnly.close();
        await db.close();
      }
      continue;
    }
    if (!existsSync(settings.dbPath)) {
      throw new ConfigError(
        shortPath(settings.dbPath),
        null,
        `no ${domain.name} database here: start the mesh once (npm start) to create it, or point --data-dir / ${domain.name.toUpperCase()}_DB at it`,
      );
    }
    const db = new Database(settings.dbPath, { readonly: true, fileMustExist: true });
    try {
      reports.push({ domain: domain.name, database: shortPath(settings.dbPath), report: await runQuality(db, selected, { asOf }) });
    } finally {
      db.close();
    }
  }
  if (values.product) {
    const found = new Set(reports.flatMap((r) => r.report.results.map((x) => x.product)));
    const missing = values.product.filter((p) => !found.has(p));
    if (missing.length) throw new ConfigError('--product', null, `no data product ${missing.join(', ')} in ${domains.map((d) => d.name).join(', ')}`);
  }

  const results = reports.flatMap((r) => r.report.results);
  const criticalFailures = results.filter((r) => r.status !== 'passed' && r.severity === 'critical');
  if (values.json) {
    io.out(JSON.stringify({ asOf: asOf.toISOString(), passed: criticalFailures.length === 0, domains: reports }, null, 2));
  } else {
    const clock = asOf.getTime() === SYNTHETIC_AS_OF.getTime() ? ' (the seed data\'s own clock; --as-of now for the wall clock)' : '';
    io.out(`Data quality as of ${asOf.toISOString()}${clock}\n`);
    io.out(table(results));
    io.out('');
    for (const r of results.filter((x) => x.status !== 'passed')) {
      io.out(`${r.status === 'error' ? 'ERROR' : 'FAIL '} ${r.product}/${r.rule} (${r.severity}) on ${r.coordinate}: ${r.message}`);
    }
    const failed = results.filter((r) => r.status === 'failed').length;
    const errors = results.filter((r) => r.status === 'error').length;
    const timing = reports.map((r) => `${r.domain} ${r.report.durationMs} ms`).join(', ');
    io.out(
      `${results.length} rules: ${results.length - failed - errors} passed, ${failed} failed, ${errors} could not run; ` +
        `${criticalFailures.length} critical. (${timing})`,
    );
  }
  return criticalFailures.length ? 1 : 0;
}

runCli(main, import.meta.url);

function shortPath(path: string): string {
  const short = relative(process.cwd(), path);
  return short.startsWith('..') ? path : short;
}

function table(results: QualityResult[]): string {
  const rows = results.map((r) => [
    r.product,
    r.rule,
    r.severity,
    `${r.metric} ${r.target}`,
    r.value === null ? '-' : `${Number(r.value.toFixed(2))} ${r.unit}`,
    r.expectation,
    r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'ERROR',
    r.durationMs.toFixed(1),
  ]);
  const header = ['PRODUCT', 'RULE', 'SEVERITY', 'CHECK', 'MEASURED', 'EXPECTED', 'RESULT', 'MS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
