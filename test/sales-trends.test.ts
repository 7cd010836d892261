import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { CustomerRows } from '../subgraphs/kit/row-level.js';
import { SqliteDatabase } from '../subgraphs/kit/sqlite-database.js';
import { sqliteSalesRepository, type Period } from '../subgraphs/sales/repository.js';

/**
 * Product.salesTrend reads materialised per-product aggregates; they must give exactly what
 * aggregating the order book directly gives, for every period.
 */
const RAW_BUCKET: Record<Period, string> = {
  DAY: 'substr(o.placed_at, 1, 10)',
  WEEK: "strftime('%Y-W%W', o.placed_at)",
  MONTH: 'substr(o.placed_at, 1, 7)',
  QUARTER: "substr(o.placed_at, 1, 4) || '-Q' || ((CAST(substr(o.placed_at, 6, 2) AS INTEGER) + 2) / 3)",
  YEAR: 'substr(o.placed_at, 1, 4)',
};

describe('sales trends from the materialised aggregates', () => {
  const db = new SqliteDatabase(join(inject('dataDir'), 'sales.db'));
  const repo = sqliteSalesRepository(db);
  const products = [1, 2, 7, 250, 999];
  const everyone = new CustomerRows(undefined);

  it.each(Object.keys(RAW_BUCKET) as Period[])('equal the order book aggregated directly, by %s', async (period) => {
    const trends = await repo.productTrends(products, period, 10_000, everyone);
    const raw = db.raw
      .prepare(
        `SELECT l.product_id, ${RAW_BUCKET[period]} AS period, COUNT(DISTINCT o.id) AS orders, SUM(l.quantity) AS units, SUM(l.amount) AS revenue
         FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.product_id IN (SELECT value FROM json_each(?)) AND o.status != 'CANCELLED'
         GROUP BY l.product_id, period ORDER BY l.product_id, period`,
      )
      .all(JSON.stringify(products)) as { product_id: number; period: string; orders: number; units: number; revenue: number }[];
    expect(trends.length).toBe(raw.length);
    expect(trends.map((t) => [t.product_id, t.period, t.orders, t.units])).toEqual(raw.map((r) => [r.product_id, r.period, r.orders, r.units]));
    trends.forEach((t, i) => expect(t.revenue).toBeCloseTo(raw[i]!.revenue, 2));
  });

  it('keeps only the last N periods of each product, oldest first', async () => {
    const trends = await repo.productTrends([1, 2], 'MONTH', 3, everyone);
    expect(trends.filter((t) => t.product_id === 1).map((t) => t.period)).toEqual(['2025-10', '2025-11', '2025-12']);
    expect(trends.filter((t) => t.product_id === 2)).toHaveLength(3);
  });

  it('count only the orders of the caller\'s region when a row rule restricts it', async () => {
    const europe = new CustomerRows({ match: { region: 'EUROPE' }, consent: false });
    const trends = await repo.productTrends(products, 'QUARTER', 10_000, europe);
    const raw = db.raw
      .prepare(
        `SELECT l.product_id, ${RAW_BUCKET.QUARTER} AS period, COUNT(DISTINCT o.id) AS orders, SUM(l.quantity) AS units
         FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.product_id IN (SELECT value FROM json_each(?)) AND o.status != 'CANCELLED' AND o.region = 'EUROPE'
         GROUP BY l.product_id, period ORDER BY l.product_id, period`,
      )
      .all(JSON.stringify(products)) as { product_id: number; period: string; orders: number; units: number }[];
    expect(raw.length).toBeGreaterThan(0);
    expect(trends.map((t) => [t.product_id, t.period, t.orders, t.units])).toEqual(raw.map((r) => [r.product_id, r.period, r.orders, r.units]));
  });
});
