import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { qualityRules } from '../subgraphs/mesh/data-products/accessors.js';
import { DESCRIPTOR_FILE } from '../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile, parseDescriptors } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { runQuality, SYNTHETIC_AS_OF } from '../subgraphs/kit/data-products/quality.js';
import { DEFAULT_SEED } from '../subgraphs/kit/deterministic-random.js';
import { startSubgraph, type RunningSubgraph } from '../subgraphs/kit/subgraph-server.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { main as qualityMain } from '../gateway/cli/quality.js';
import { PROCESS_TEST_TIMEOUT_MS, runCli, runMain } from './helpers/cli.js';
import { copyDatabase, getDataProducts } from './helpers/data-products.js';
import { TEST_SIGNING_KEY } from './helpers/mesh.js';

const QUALITY = 'gateway/cli/quality.ts';
const copies: string[] = [];
afterAll(() => {
  for (const path of copies) rmSync(dirname(path), { recursive: true, force: true });
});
async function brokenCopy(domain: string, ...statements: string[]): Promise<string> {
  const path = await copyDatabase(domain);
  copies.push(path);
  const db = new Database(path);
  try {
    db.pragma('foreign_keys = OFF');
    db.pragma('ignore_check_constraints = ON');
    for (const sql of statements) db.exec(sql);
  } finally {
    db.close();
  }
  return path;
}

/** A tiny product over one table, to check each metric's SQL on data we control. */
const WIDGETS = (quality: string, objectQuality = '') => `id: widgets
name: Widgets
version: 1.0.0
status: active
domain: shop
outputPorts:
  - name: graphql
    schema:
      - name: Widget
        physicalName: widgets
        properties:
          - name: code
            physicalName: code
            quality:
${quality
  .split('\n')
  .filter(Boolean)
  .map((l) => `              ${l}`)
  .join('\n')}
          - { name: madeAt, physicalName: made_at }
${objectQuality ? `        quality:\n${objectQuality.split('\n').filter(Boolean).map((l) => `          ${l}`).join('\n')}\n` : ''}`;

function widgetsDb(): Database.Database {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE widgets (code TEXT, made_at TEXT, batch INTEGER);
    INSERT INTO widgets VALUES ('A', '2025-12-30T10:00:00Z', 1), ('B', '2025-12-31T06:00:00Z', 1), ('B', '2025-12-29T00:00:00Z', 2), (NULL, '2025-12-01T00:00:00Z', 2);`);
  return db;
}
const measure = async (quality: string, objectQuality = '', asOf = SYNTHETIC_AS_OF) => {
  const db = widgetsDb();
  try {
    return (await runQuality(db, parseDescriptors(WIDGETS(quality, objectQuality), 'widgets.yaml'), { asOf })).results;
  } finally {
    db.close();
  }
};

describe('quality rules run as one SQL statement each', () => {
  it('nullValues counts rows, or a percentage of rows, without a value (the not-null ratio)', async () => {
    const [rows, percent] = await measure('- { id: a, metric: nullValues, mustBe: 0 }\n- { id: b, metric: nullValues, unit: percent, mustBeLessThan: 20 }');
    expect(rows).toMatchObject({ status: 'failed', value: 1, unit: 'rows', expectation: '= 0 rows', message: 'measured 1 rows, expected = 0 rows' });
    expect(percent).toMatchObject({ status: 'failed', value: 25, unit: 'percent', expectation: '< 20 percent' });
  });

  it('duplicateValues counts repeated values of a column, or of several columns together', async () => {
    const results = await measure('- { id: a, metric: duplicateValues, mustBe: 0 }', '- { id: b, metric: duplicateValues, arguments: { properties: [code, batch] }, mustBe: 0 }');
    const [column, pair] = ['a', 'b'].map((id) => results.find((r) => r.rule === id));
    expect(pair).toMatchObject({ rule: 'b', status: 'passed', value: 0, target: 'widgets' });
    expect(column).toMatchObject({ rule: 'a', status: 'failed', value: 1, target: 'widgets.code' });
  });

  it('invalidValues counts values outside an accepted list or range (NULLs are not invalid)', async () => {
    const [list, range] = await measure(
      "- { id: a, metric: invalidValues, arguments: { validValues: [A, C] }, mustBe: 0 }\n- { id: b, metric: invalidValues, arguments: { minimum: 'A', maximum: 'A' }, mustBeLessOrEqualTo: 2 }",
    );
    expect(list).toMatchObject({ status: 'failed', value: 2 });
    expect(range).toMatchObject({ status: 'passed', value: 2, expectation: '<= 2 rows' });
  });

  it('rowCount checks the table size against bounds', async () => {
    const results = await measure('- { id: a, metric: nullValues, unit: percent, mustBeLessOrEqualTo: 100 }', '- { id: size, metric: rowCount, mustBeBetween: [1, 3] }');
    expect(results.find((r) => r.rule === 'size')).toMatchObject({ status: 'failed', value: 4, expectation: 'between 1 and 3 rows' });
  });

  it('freshness measures the age of the newest timestamp against the run clock', async () => {
    const yaml = WIDGETS('- { id: a, metric: nullValues, unit: percent, mustBeLessOrEqualTo: 100 }').replace(
      '          - { name: madeAt, physicalName: made_at }',
      '          - name: madeAt\n            physicalName: made_at\n            quality:\n              - { id: recent, metric: freshness, unit: h, mustBeLessOrEqualTo: 24, severity: critical }',
    );
    const run = async (asOf: Date) => {
      const db = widgetsDb();
      try {
        return (await runQuality(db, parseDescriptors(yaml, 'widgets.yaml'), { asOf })).results.find((r) => r.rule === 'recent')!;
      } finally {
        db.close();
      }
    };
    expect(await run(new Date('2026-01-01T00:00:00Z'))).toMatchObject({ status: 'passed', value: 18, unit: 'h' });
    expect(await run(new Date('2026-01-03T00:00:00Z'))).toMatchObject({ status: 'failed', value: 66, severity: 'critical' });
  });

  it('runs type: sql rules, with ${object} naming the table', async () => {
    const [rule] = (await measure('', "- { id: s, type: sql, query: \"SELECT COUNT(*) FROM ${object} WHERE code = 'B'\", mustBe: 2 }")).filter((r) => r.rule === 's');
    expect(rule).toMatchObject({ status: 'passed', value: 2, metric: 'sql' });
  });

  it('never changes data: a rule that writes, or returns no number, cannot run', async () => {
    const results = await measure(
      '- { id: a, metric: nullValues, unit: percent, mustBeLessOrEqualTo: 100 }',
      '- { id: w, type: sql, query: "WITH x AS (SELECT 1) DELETE FROM widgets", mustBe: 0 }\n- { id: t, type: sql, query: "SELECT code FROM widgets WHERE code = \'A\'", mustBe: 0 }',
    );
    expect(results.find((r) => r.rule === 'w')).toMatchObject({ status: 'error' });
    expect(results.find((r) => r.rule === 't')).toMatchObject({ status: 'error', message: 'the query returned "A", not a number' });
  });

  it('reports a rule on a missing column as an error, not a pass', async () => {
    const db = widgetsDb();
    db.exec('ALTER TABLE widgets DROP COLUMN code');
    const [missing] = (await runQuality(db, parseDescriptors(WIDGETS('- { id: a, metric: nullValues, mustBe: 0 }'), 'w.yaml'))).results;
    db.close();
    expect(missing).toMatchObject({ status: 'error', message: expect.stringMatching(/no such column/) });
  });
});

// The CLI's logic in-process, and one real `npm run quality` process (its exit code 1 on critical
// failures): a timeout that fits a loaded machine; each test waits for the CLI's exit.
describe('npm run quality', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const dataDir = () => inject('dataDir');

  it('prints one row per rule of every descriptor and exits 0 on the seeded data', async () => {
    const result = await runMain(qualityMain, ['--data-dir', dataDir()]);
    expect(result.code, result.stderr).toBe(0);
    const rules = DOMAINS.flatMap((d) => loadDescriptorFile(join(dirname(d.schemaPath), DESCRIPTOR_FILE)).flatMap((p) => qualityRules(p).map((r) => [p.id, r.id])));
    expect(rules.length).toBeGreaterThan(50);
    for (const [product, rule] of rules) expect(result.stdout).toMatch(new RegExp(`^${product}\\s+${rule}\\s+\\w+\\s+.*PASS\\s+[\\d.]+$`, 'm'));
    expect(result.stdout).toMatch(/^PRODUCT\s+RULE\s+SEVERITY\s+CHECK\s+MEASURED\s+EXPECTED\s+RESULT\s+MS$/m);
    expect(result.stdout).toMatch(/rules: \d+ passed, 0 failed, 0 could not run; 0 critical/);
    expect(result.stdout).toContain('Data quality as of 2026-01-01T00:00:00.000Z');
  });

  it('exits 1 and names the failures when critical rules fail on broken data (a real process)', async () => {
    const db = await brokenCopy(
      'sales',
      "UPDATE orders SET total = -5 WHERE id = 3",
      "UPDATE orders SET status = 'LOST' WHERE id IN (4, 5)",
      'UPDATE order_lines SET quantity = 0 WHERE order_id = 7',
    );
    const result = await runCli(QUALITY, ['--domain', 'sales', '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^order-history\s+order-total-positive\s+critical\s+invalidValues orders\.total\s+1 rows\s+= 0 rows\s+FAIL/m);
    expect(result.stdout).toMatch(/^order-history\s+order-status-known\s+critical\s+.*\s2 rows\s+= 0 rows\s+FAIL/m);
    expect(result.stdout).toMatch(/^order-history\s+quantity-positive\s+critical\s+invalidValues order_lines\.quantity\s+\d+ rows\s+= 0 rows\s+FAIL/m);
    // Order 3's total no longer matches its lines either.
    expect(result.stdout).toMatch(/^order-history\s+order-total-matches-lines\s+critical\s+sql orders\s+1 rows\s+= 0 rows\s+FAIL/m);
    expect(result.stdout).toMatch(/^order-history\s+order-line-key-unique\s+critical\s+.*PASS/m);
    expect(result.stdout).toContain('FAIL  order-history/order-status-known (critical) on Order.status: measured 2 rows, expected = 0 rows');
    expect(result.stdout).toMatch(/4 failed, 0 could not run; 4 critical/);
  });

  it('reports failed warnings but exits 0 when no critical rule fails', async () => {
    const db = await brokenCopy('customers', 'UPDATE customers SET phone = NULL WHERE id % 3 = 0');
    const result = await runMain(qualityMain, ['--domain', 'customers', '--db', db]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^customer-profiles\s+phone-mostly-present\s+warning\s+nullValues customers\.phone\s+4\d\.\d+ percent\s+< 25 percent\s+FAIL/m);
    expect(result.stdout).toMatch(/1 failed, 0 could not run; 0 critical/);
  });

  it('measures freshness against --as-of: data a month old breaks the freshness SLAs', async () => {
    const result = await runMain(qualityMain, ['--domain', 'sales', '--data-dir', dataDir(), '--as-of', '2026-02-01T00:00:00Z']);
    expect(result.code).toBe(0); // SLA checks are warnings
    expect(result.stdout).toMatch(/^order-history\s+sla-freshness\s+warning\s+freshness orders\.placed_at\s+32(\.\d+)? d\s+<= 2 d\s+FAIL/m);
  });

  it('fails with a clear message on a database that does not exist, an unknown domain or a bad --as-of', async () => {
    const missing = await runMain(qualityMain, ['--domain', 'products', '--data-dir', join(dataDir(), 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nowhere\/products\.db: no products database here: start the mesh once/);
    const unknown = await runMain(qualityMain, ['--domain', 'inventory']);
    expect(unknown.stderr).toContain(`error: --domain: unknown domain inventory (known: ${DOMAINS.map((d) => d.name).join(', ')})`);
    const asOf = await runMain(qualityMain, ['--as-of', 'yesterday']);
    expect(asOf.stderr).toContain('"yesterday" is not an ISO-8601 instant');
  });

  it('prints machine-readable results with --json', async () => {
    const result = await runMain(qualityMain, ['--domain', 'products', '--data-dir', dataDir(), '--json']);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ passed: true, domains: [{ domain: 'products', report: { results: expect.any(Array) } }] });
  });
});

describe('quality inside each subgraph', () => {
  const running: RunningSubgraph[] = [];
  afterAll(() => Promise.all(running.map((s) => s.close())));

  // Waits on the subgraph's own endpoint for the next periodic run: generous bounds, as a loaded machine may delay it.
  it('runs at start and then periodically, and serves the latest results at GET /data-products (signed callers only)', { timeout: 120_000 }, async () => {
    const dbPath = await brokenCopy('products');
    const products = DOMAINS.find((d) => d.name === 'products')!;
    const subgraph = await startSubgraph(products, { port: 0, dbPath, scale: 1, seed: DEFAULT_SEED, signingKey: TEST_SIGNING_KEY, dataProducts: { qualityIntervalMs: 50 } });
    running.push(subgraph);
    // At start: measured, all good; and not counted as the subgraph's own statements.
    const first = subgraph.dataProducts.latest!;
    expect(first.results.every((r) => r.status === 'passed')).toBe(true);
    expect(subgraph.db.statementsExecuted).toBe(0);

    const writer = new Database(dbPath);
    writer.pragma('ignore_check_constraints = ON');
    writer.exec('UPDATE products SET price = -1 WHERE id = 5');
    writer.close();
    await expect
      .poll(async () => (await getDataProducts(subgraph)).body.quality.results.find((r: { rule: string }) => r.rule === 'price-in-range')?.status, { timeout: 60_000 })
      .toBe('failed');
    const { body } = await getDataProducts(subgraph);
    expect(body.subgraph).toBe('products');
    expect(body.dataProducts.map((p: { id: string }) => p.id)).toEqual(['product-catalog']);
    expect(Date.parse(body.quality.checkedAt)).toBeGreaterThan(Date.parse(first.checkedAt));

    const unsigned = await getDataProducts(subgraph, false);
    expect(unsigned.status).toBe(401);
  });
});
