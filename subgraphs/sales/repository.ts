import { periodBucket, type Period } from '../kit/calendar-periods.js';
import { afterCursor, type Page } from '../kit/paging.js';
import { CUSTOMER_SCOPE_MIGRATION, type CustomerRows } from '../kit/row-level.js';
import { inList, type SqlDatabase } from '../kit/sql-database.js';

export interface OrderRecord {
  id: number;
  customer_id: number;
  placed_at: string;
  status: string;
  channel: string;
  region: string;
  total: number;
  currency: string;
}
export interface OrderLineRecord {
  order_id: number;
  line_number: number;
  product_id: number;
  quantity: number;
  unit_price: number;
  amount: number;
}
export interface CustomerSalesRecord {
  customer_id: number;
  order_count: number;
  lifetime_value: number;
}
export interface TrendPointRecord {
  product_id?: number;
  period: string;
  region: string | null;
  orders: number;
  units: number;
  revenue: number;
}
export type { Period };
export interface TrendFilter {
  period: Period;
  from: string | null;
  to: string | null;
  region: string | null;
  productId: number | null;
  groupByRegion: boolean;
}

/**
 * All of the sales domain's data access. Aggregates are computed in SQL, not in JavaScript.
 * `rows` is the caller's view under the row-level rules (subgraphs/kit/row-level.ts): every
 * statement about orders applies it, and aggregates count only the visible customers' orders.
 */
export interface SalesRepository {
  ordersByIds(ids: readonly number[], rows: CustomerRows): Promise<OrderRecord[]>;
  /** The newest `first` orders of each customer asked for, in one statement. */
  recentOrdersOfCustomers(customerIds: readonly number[], first: number, rows: CustomerRows): Promise<OrderRecord[]>;
  /** A page of each customer's orders (newest first: placed_at DESC, id DESC), up to `page.limit` each, in one statement. */
  orderPagesOfCustomers(customerIds: readonly number[], page: Page, rows: CustomerRows): Promise<OrderRecord[]>;
  linesOfOrders(orderIds: readonly number[], rows: CustomerRows): Promise<OrderLineRecord[]>;
  /** One row per visible customer asked for (zeros when it has no orders); none for a hidden one. */
  customerSales(customerIds: readonly number[], rows: CustomerRows): Promise<CustomerSalesRecord[]>;
  unitsSold(productIds: readonly number[], rows: CustomerRows): Promise<{ product_id: number; units: number }[]>;
  productTrends(productIds: readonly number[], period: Period, last: number, rows: CustomerRows): Promise<TrendPointRecord[]>;
  trends(filter: TrendFilter, rows: CustomerRows): Promise<TrendPointRecord[]>;
}

export const MIGRATION = `
  CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    placed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    region TEXT NOT NULL,
    total REAL NOT NULL,
    currency TEXT NOT NULL
  );
  CREATE INDEX orders_customer ON orders (customer_id, placed_at DESC);
  CREATE INDEX orders_placed ON orders (placed_at);
  CREATE TABLE order_lines (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    line_number INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price REAL NOT NULL,
    amount REAL NOT NULL,
    PRIMARY KEY (order_id, line_number)
  );
  CREATE INDEX order_lines_product ON order_lines (product_id);
  ${CUSTOMER_SCOPE_MIGRATION}

  -- Per-product aggregates behind Product.salesTrend, materialised from the order book (cancelled
  -- orders excluded): a popular product has thousands of lines, but at most ~1,100 days and 36
  -- months. Exact for any period: each order falls in exactly one day and one month. Per region
  -- (the customer's, stamped on the order), so a region-restricted caller's series counts only
  -- its region.
  CREATE TABLE product_sales_daily (
    product_id INTEGER NOT NULL, day TEXT NOT NULL, region TEXT NOT NULL,
    orders INTEGER NOT NULL, units INTEGER NOT NULL, revenue REAL NOT NULL,
    PRIMARY KEY (product_id, day, region)
  ) WITHOUT ROWID;
  CREATE TABLE product_sales_monthly (
    product_id INTEGER NOT NULL, month TEXT NOT NULL, region TEXT NOT NULL,
    orders INTEGER NOT NULL, units INTEGER NOT NULL, revenue REAL NOT NULL,
    PRIMARY KEY (product_id, month, region)
  ) WITHOUT ROWID;
`;

/** Rebuilds the per-product aggregates from orders and lines (at seed time, or after loading orders). */
export async function refreshProductSales(db: SqlDatabase): Promise<void> {
  for (const [table, column, period] of [
    ['product_sales_daily', 'day', 'DAY'],
    ['product_sales_monthly', 'month', 'MONTH'],
  ] as const) {
    const bucket = periodBucket(period, 'o.placed_at', db.engine);
    await db.exec(`DELETE FROM ${table}`);
    await db.exec(
      `INSERT INTO ${table} (product_id, ${column}, region, orders, units, revenue)
       SELECT l.product_id, ${bucket}, o.region, COUNT(DISTINCT o.id), SUM(l.quantity), SUM(l.amount)
       FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status != 'CANCELLED'
       GROUP BY l.product_id, ${bucket}, o.region`,
    );
  }
}

/** Per-product buckets come from the smallest materialised grain that is exact for the period. */
const productSource = (period: Period) =>
  period === 'DAY' || period === 'WEEK' ? { table: 'product_sales_daily', column: 'day' } : { table: 'product_sales_monthly', column: 'month' };

export function sqliteSalesRepository(db: SqlDatabase): SalesRepository {
  return {
    async ordersByIds(ids, rows) {
      return db.all(`SELECT o.* FROM orders o WHERE o.id IN (SELECT value FROM json_each(?1)) AND ${rows.visible('o.customer_id', 2)}`, inList(ids), rows.param);
    },
    async recentOrdersOfCustomers(customerIds, first, rows) {
      return db.all(
        `SELECT * FROM (
           SELECT o.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY placed_at DESC, id DESC) AS rank
           FROM orders o WHERE customer_id IN (SELECT value FROM json_each(?1)) AND ${rows.visible('o.customer_id', 3)}
         ) ranked WHERE rank <= ?2 ORDER BY customer_id, rank`,
        inList(customerIds),
        first,
        rows.param,
      );
    },
    async orderPagesOfCustomers(customerIds, page, rows) {
      return db.all(
        `SELECT * FROM (
           SELECT o.*, ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.placed_at DESC, o.id DESC) AS page_rank
           FROM orders o WHERE o.customer_id IN (SELECT value FROM json_each(?1))
             AND ${afterCursor(['o.placed_at', 'o.id'], 'DESC', 2)} AND ${rows.visible('o.customer_id', 5)}
         ) ranked WHERE page_rank <= ?4 ORDER BY customer_id, page_rank`,
        inList(customerIds),
        ...page.after,
        page.limit,
        rows.param,
      );
    },
    async linesOfOrders(orderIds, rows) {
      return db.all(
        `SELECT l.* FROM order_lines l WHERE l.order_id IN (SELECT value FROM json_each(?1))
           AND ${rows.visible('(SELECT o.customer_id FROM orders o WHERE o.id = l.order_id)', 2)}
         ORDER BY l.order_id, l.line_number`,
        inList(orderIds),
        rows.param,
      );
    },
    async customerSales(customerIds, rows) {
      // Driven by the customer replica: a visible customer without orders gets zeros, a hidden
      // (or unknown) one no row at all, so its figures are null, never a wrong 0.
      return db.all(
        `SELECT s.customer_id, COUNT(o.id) AS order_count,
                ROUND(COALESCE(SUM(CASE WHEN o.status IN ('CANCELLED', 'RETURNED') THEN 0 ELSE o.total END), 0), 2) AS lifetime_value
         FROM customer_scope s LEFT JOIN orders o ON o.customer_id = s.customer_id
         WHERE s.customer_id IN (SELECT value FROM json_each(?1)) AND ${rows.scopeRow('s', 2)}
         GROUP BY s.customer_id`,
        inList(customerIds),
        rows.param,
      );
    },
    async unitsSold(productIds, rows) {
      return db.all(
        `SELECT l.product_id, SUM(l.quantity) AS units FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.product_id IN (SELECT value FROM json_each(?1)) AND o.status NOT IN ('CANCELLED', 'RETURNED')
           AND ${rows.aggregate('o.customer_id', 2)}
         GROUP BY l.product_id`,
        inList(productIds),
        rows.param,
      );
    },
    async productTrends(productIds, period, last, rows) {
      const { table, column } = productSource(period);
      return db.all(
        `SELECT product_id, period, NULL AS region, orders, units, revenue FROM (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY period DESC) AS rank FROM (
             SELECT product_id, ${periodBucket(period, column, db.engine)} AS period, SUM(orders) AS orders, SUM(units) AS units, ROUND(SUM(revenue), 2) AS revenue
             FROM ${table} WHERE product_id IN (SELECT value FROM json_each(?1)) AND ${rows.inRegion('region', 3)}
             GROUP BY product_id, period) buckets) ranked
         WHERE rank <= ?2 ORDER BY product_id, period`,
        inList(productIds),
        last,
        rows.param,
      );
    },
    async trends({ period, from, to, region, productId, groupByRegion }, rows) {
      const regionColumn = groupByRegion ? 'o.region' : 'NULL';
      // PostgreSQL refuses a constant in GROUP BY: group by the region only when it is a column.
      return db.all(
        `SELECT ${periodBucket(period, 'o.placed_at', db.engine)} AS period, ${regionColumn} AS region, COUNT(DISTINCT o.id) AS orders,
                SUM(l.quantity) AS units, ROUND(SUM(l.amount), 2) AS revenue
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.status != 'CANCELLED'
           AND (CAST(?1 AS TEXT) IS NULL OR o.placed_at >= ?1) AND (CAST(?2 AS TEXT) IS NULL OR o.placed_at < ?2)
           AND (CAST(?3 AS TEXT) IS NULL OR o.region = ?3) AND (CAST(?4 AS INTEGER) IS NULL OR l.product_id = ?4) AND ${rows.aggregate('o.customer_id', 5)}
         GROUP BY period${groupByRegion ? ', o.region' : ''} ORDER BY period, region`,
        from,
        to,
        region,
        productId,
        rows.param,
      );
    },
  };
}
