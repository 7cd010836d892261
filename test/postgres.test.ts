import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DESCRIPTOR_FILE } from '../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { runQuality } from '../subgraphs/kit/data-products/quality.js';
import { openDomainDatabase } from '../subgraphs/kit/database-lifecycle.js';
import { DEFAULT_SEED } from '../subgraphs/kit/deterministic-random.js';
import { PostgresDatabase } from '../subgraphs/kit/postgres-database.js';
import { RequestBudget } from '../subgraphs/kit/request-budget.js';
import { CustomerRows } from '../subgraphs/kit/row-level.js';
import { subgraphSettings } from '../subgraphs/kit/settings.js';
import type { SqlDatabase } from '../subgraphs/kit/sql-database.js';
import { SqliteDatabase } from '../subgraphs/kit/sqlite-database.js';
import { startSubgraph } from '../subgraphs/kit/subgraph-server.js';
import { createLogger } from '../subgraphs/mesh/logger.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { sqliteFinanceRepository } from '../subgraphs/finance/repository.js';
import { sqliteSalesRepository, type Period } from '../subgraphs/sales/repository.js';
import { main as qualityMain } from '../gateway/cli/quality.js';
import { freePort, runCli, runMain } from './helpers/cli.js';
import { postgresSeeded } from './helpers/engines.js';
import { TEST_SIGNING_KEY } from './helpers/mesh.js';

/**
 * What is particular to PostgreSQL: choosing it per domain, the same data and answers as SQLite,
 * the pool, statement timeouts and cancellation, and clear startup errors. The mesh, batching and
 * row-level tests run on both engines too (describe.each over engines).
 */
const domain = (name: string) => DOMAINS.find((d) => d.name === name)!;
const PERIODS: Period[] = ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];
/** Stored sums are exact in PostgreSQL (NUMERIC) and binary in SQLite (REAL): equal to a millionth. */
const rounded = (rows: Record<string, unknown>[]) =>
  rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v])));

describe('choosing the engine per domain', () => {
  it('reads <DOMAIN>_DATABASE_URL and the pool size (per domain, else MESH_DATABASE_POOL_SIZE, else 10); SQLite without it', () => {
    const sales = domain('sales');
    const url = 'postgres://mesh@db.example:5433/mesh_sales';
    expect(subgraphSettings(sales, {}, {}).database).toBeNull();
    expect(subgraphSettings(sales, {}, { SALES_DATABASE_URL: url }).database).toEqual({ url, poolSize: 10 });
    expect(subgraphSettings(sales, {}, { SALES_DATABASE_URL: url, MESH_DATABASE_POOL_SIZE: '4' }).database!.poolSize).toBe(4);
    expect(subgraphSettings(sales, {}, { SALES_DATABASE_URL: url, MESH_DATABASE_POOL_SIZE: '4', SALES_DATABASE_POOL_SIZE: '7' }).database!.poolSize).toBe(7);
    // Another domain's URL does not move this one.
    expect(subgraphSettings(domain('finance'), {}, { SALES_DATABASE_URL: url }).database).toBeNull();
  });

  it('names the variable of a wrong URL or pool size', () => {
    const sales = domain('sales');
    expect(() => subgraphSettings(sales, {}, { SALES_DATABASE_URL: 'mysql://x@y/z' })).toThrow(/SALES_DATABASE_URL: a postgres:\/\/ URL is expected/);
    expect(() => subgraphSettings(sales, {}, { SALES_DATABASE_URL: 'not a url' })).toThrow(/SALES_DATABASE_URL: not a URL/);
    expect(() => subgraphSettings(sales, {}, { SALES_DATABASE_URL: 'postgres://x@y/z', SALES_DATABASE_POOL_SIZE: '0' })).toThrow(/SALES_DATABASE_POOL_SIZE must be an integer >= 1/);
  });
});

describe('PostgreSQL', () => {
  const urls = inject('postgres').urls;
  const log = createLogger('test');
  const pgs: Record<string, SqlDatabase> = {};
  const sqlites: Record<string, SqlDatabase> = {};
  beforeAll(async () => {
    await postgresSeeded();
    for (const d of DOMAINS) {
      pgs[d.name] = await PostgresDatabase.connect({ url: urls[d.name]!, poolSize: 2 }, { domain: d.name, variable: 'test' });
      sqlites[d.name] = new SqliteDatabase(join(inject('dataDir'), `${d.name}.db`));
    }
  });
  afterAll(async () => {
    for (const db of [...Object.values(pgs), ...Object.values(sqlites)]) await db.close();
  });

  /** A database of its own in the run's server, dropped at the end of the file. */
  const scratch: string[] = [];
  async function scratchDatabase(): Promise<string> {
    const name = `mesh_scratch_${process.pid}_${scratch.length}`;
    const admin = new pg.Client(inject('postgres').admin);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    scratch.push(name);
    return inject('postgres').admin.replace(/\/postgres$/, `/${name}`);
  }
  afterAll(async () => {
    const admin = new pg.Client(inject('postgres').admin);
    await admin.connect();
    for (const name of scratch) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('seeds every domain with the same data as SQLite (every table: row count and first rows)', async () => {
    for (const d of DOMAINS) {
      const tables = (await sqlites[d.name]!.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")).map((t) => t.name);
      expect(tables.length).toBeGreaterThan(1);
      for (const table of tables) {
        const count = `SELECT COUNT(*) AS n FROM ${table}`;
        expect((await pgs[d.name]!.get<{ n: number }>(count))!.n, `${d.name}.${table}`).toBe((await sqlites[d.name]!.get<{ n: number }>(count))!.n);
        const first = `SELECT * FROM ${table} ORDER BY 1, 2 LIMIT 50`;
        expect(rounded(await pgs[d.name]!.all(first)), `${d.name}.${table}`).toEqual(rounded(await sqlites[d.name]!.all(first)));
      }
    }
  });

  it('answers sales trends and revenue like SQLite, for every period, with and without a row rule', async () => {
    for (const rows of [new CustomerRows(undefined), new CustomerRows({ match: { region: 'EUROPE' }, consent: false })]) {
      const [salesPg, salesLite] = [pgs.sales!, sqlites.sales!].map(sqliteSalesRepository);
      const [financePg, financeLite] = [pgs.finance!, sqlites.finance!].map(sqliteFinanceRepository);
      for (const period of PERIODS) {
        const filter = { period, from: '2024-01-01', to: null, region: null, productId: null, groupByRegion: true };
        expect(await salesPg!.trends(filter, rows), period).toEqual(await salesLite!.trends(filter, rows));
        expect(await salesPg!.productTrends([1, 2, 250], period, 10_000, rows), period).toEqual(await salesLite!.productTrends([1, 2, 250], period, 10_000, rows));
        const revenue = { period, from: null, to: '2025-07-01' };
        expect(await financePg!.revenue(revenue, rows), period).toEqual(await financeLite!.revenue(revenue, rows));
      }
    }
  });

  it('runs every quality rule of every descriptor with the results SQLite gives', async () => {
    for (const d of DOMAINS) {
      const products = loadDescriptorFile(join(dirname(d.schemaPath), DESCRIPTOR_FILE));
      const [onPg, onLite] = await Promise.all([pgs[d.name]!, sqlites[d.name]!].map(async (db) => {
        const readOnly = await db.readOnly();
        try {
          return (await runQuality(readOnly, products)).results.map((r) => ({ rule: `${d.name}/${r.product}/${r.rule}`, status: r.status, value: r.value, message: r.message }));
        } finally {
          await readOnly.close();
        }
      }));
      expect(onPg!.length).toBeGreaterThan(0);
      expect(onPg).toEqual(onLite);
      expect(onPg!.filter((r) => r.status !== 'passed')).toEqual([]);
    }
  });

  it('runs quality rules read-only: a rule that writes is an error and changes nothing', async () => {
    const readOnly = await pgs.products!.readOnly();
    try {
      await expect(readOnly.value('DELETE FROM categories', [])).rejects.toThrow(/read-only transaction/);
      await expect(readOnly.value("SELECT 1; SET default_transaction_read_only = off", [])).rejects.toThrow(/multiple commands/);
    } finally {
      await readOnly.close();
    }
    expect((await pgs.products!.get<{ n: number }>('SELECT COUNT(*) AS n FROM categories'))!.n).toBe(8);
  });

  it('stops a statement on the server at the request deadline, and when the request is abandoned', async () => {
    const db = pgs.products!;
    const running = async () => (await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'"))[0]!.n;
    const timed = new RequestBudget({ timeoutMs: 300, maxRows: 0, maxResponseBytes: 0 }, 'products');
    await expect(db.forRequest(timed).all('SELECT pg_sleep(60)')).rejects.toMatchObject({ extensions: { code: 'SUBGRAPH_REQUEST_TIMEOUT' } });
    await expect.poll(running).toBe(0);

    const abandoned = new RequestBudget({ timeoutMs: 0, maxRows: 0, maxResponseBytes: 0 }, 'products');
    const statement = db.forRequest(abandoned).all('SELECT pg_sleep(60)');
    await expect.poll(running).toBe(1);
    abandoned.stop('cancelled');
    await expect(statement).rejects.toMatchObject({ extensions: { code: 'CLIENT_CLOSED_REQUEST' } });
    await expect.poll(running).toBe(0);
    // The pool still serves.
    expect(await db.get<{ one: number }>('SELECT 1 AS one')).toEqual({ one: 1 });
  });

  it('keeps to its pool size, however many statements are asked for at once', async () => {
    const db = await PostgresDatabase.connect({ url: urls.customers!, poolSize: 2 }, { domain: 'pool-test', variable: 'test' });
    try {
      const budget = new RequestBudget({ timeoutMs: 30_000, maxRows: 0, maxResponseBytes: 0 }, 'customers');
      const counts = await Promise.all(
        Array.from({ length: 12 }, () =>
          db.forRequest(budget).get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'data-mesh pool-test'"),
        ),
      );
      expect(Math.max(...counts.map((c) => c!.n))).toBeLessThanOrEqual(2);
    } finally {
      await db.close();
    }
  });

  it('leaves no request deadline behind on a pooled connection for work outside requests', async () => {
    const db = await PostgresDatabase.connect({ url: urls.customers!, poolSize: 1 }, { domain: 'customers', variable: 'test' });
    try {
      const budget = new RequestBudget({ timeoutMs: 200, maxRows: 0, maxResponseBytes: 0 }, 'customers');
      expect(await db.forRequest(budget).get('SELECT 1 AS one')).toEqual({ one: 1 });
      budget.dispose();
      // The same (only) connection, longer than that request's 200 ms.
      expect(await db.get("SELECT pg_sleep(0.5)::text AS slept")).toEqual({ slept: '' });
    } finally {
      await db.close();
    }
  });

  it('creates no SQLite file when the domain has a URL, and serves its data products from PostgreSQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-sqlite-'));
    try {
      const subgraph = await startSubgraph(domain('products'), {
        port: 0,
        dbPath: join(dir, 'products.db'),
        database: { url: urls.products!, poolSize: 2 },
        scale: 1,
        seed: DEFAULT_SEED,
        signingKey: TEST_SIGNING_KEY,
      });
      try {
        expect(subgraph.dataProducts.latest!.results.every((r) => r.status === 'passed')).toBe(true);
        const metrics = await (await fetch(subgraph.url.replace('/graphql', '/metrics'))).text();
        expect(metrics).toMatch(/subgraph_sql_statements_total\{subgraph="products"\} 0/);
      } finally {
        await subgraph.close();
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run quality measures a domain in PostgreSQL when its URL is set', async () => {
    // The CLI's main in this process (quality.test.ts runs the real process), the URL in its environment.
    vi.stubEnv('PRODUCTS_DATABASE_URL', urls.products!);
    const cli = await runMain(qualityMain, ['--domain', 'products', '--json']).finally(() => vi.unstubAllEnvs());
    expect(cli.code, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as { passed: boolean; domains: { domain: string; database: string; report: { results: unknown[] } }[] };
    expect(report.passed).toBe(true);
    expect(report.domains).toHaveLength(1);
    expect(report.domains[0]).toMatchObject({ domain: 'products', database: expect.stringMatching(/^127\.0\.0\.1:\d+\/mesh_products$/) });
    expect(report.domains[0]!.report.results.length).toBeGreaterThan(3);
  });

  it('refuses, naming the domain, the variable and the server but never the password, a server that does not answer', async () => {
    const port = await freePort();
    const url = `postgres://mesh:hunter2@127.0.0.1:${port}/mesh_products`;
    const error = await startSubgraph(domain('products'), { port: 0, dbPath: ':memory:', database: { url, poolSize: 1 }, scale: 1, seed: DEFAULT_SEED }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(new RegExp(`^products: cannot use the PostgreSQL database at 127\\.0\\.0\\.1:${port}/mesh_products \\(PRODUCTS_DATABASE_URL\\): .*ECONNREFUSED`));
    expect((error as Error).message).not.toContain('hunter2');
    // From the command line: one line on stderr, exit code 1, no stack trace.
    const cli = await runCli('subgraphs/cli.ts', ['products', '--port', '0'], { env: { PRODUCTS_DATABASE_URL: url } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`error: products: cannot use the PostgreSQL database at 127.0.0.1:${port}/mesh_products (PRODUCTS_DATABASE_URL)`);
    expect(cli.stderr).not.toMatch(/hunter2|\n\s+at /);
  });

  it('seeds an empty database on first start, and refuses one seeded with other settings or holding tables it did not make', async () => {
    const url = await scratchDatabase();
    const products = domain('products');
    const first = await openDomainDatabase(products, { url, poolSize: 1 }, { scale: 0.01, seed: 7 }, log);
    expect((await first.get<{ n: number }>('SELECT COUNT(*) AS n FROM products'))!.n).toBe(10);
    await first.close();
    // Second start, same settings: the data is reused as it is.
    await (await openDomainDatabase(products, { url, poolSize: 1 }, { scale: 0.01, seed: 7 }, log)).close();
    await expect(openDomainDatabase(products, { url, poolSize: 1 }, { scale: 0.02, seed: 7 }, log)).rejects.toThrow(
      /^products: the PostgreSQL database at 127\.0\.0\.1:\d+\/mesh_scratch_\d+_0 \(PRODUCTS_DATABASE_URL\) was seeded with schema version 1, scale 0\.01, seed 7; this mesh needs schema version 1, scale 0\.02, seed 7\. Point PRODUCTS_DATABASE_URL at an empty database/,
    );

    const foreign = await scratchDatabase();
    const client = new pg.Client(foreign);
    await client.connect();
    await client.query('CREATE TABLE legacy (id int)');
    await client.end();
    await expect(openDomainDatabase(products, { url: foreign, poolSize: 1 }, { scale: 0.01, seed: 7 }, log)).rejects.toThrow(/holds 1 tables that the mesh did not make/);
  });
});
