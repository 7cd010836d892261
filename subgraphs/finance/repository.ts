import { periodBucket, type Period } from '../kit/calendar-periods.js';
import { afterCursor, type Page } from '../kit/paging.js';
import { CUSTOMER_SCOPE_MIGRATION, type CustomerRows } from '../kit/row-level.js';
import { inList, type SqlDatabase } from '../kit/sql-database.js';

export interface InvoiceRecord {
  id: number;
  number: string;
  order_id: number;
  customer_id: number;
  issued_on: string;
  due_on: string;
  amount: number;
  tax: number;
  total: number;
  status: string;
  paid_amount: number;
}
export interface PaymentRecord {
  id: number;
  invoice_id: number;
  received_on: string;
  amount: number;
  method: string;
}
export interface RevenueRecord {
  period: string;
  revenue: number;
  cost_of_goods: number;
}
export type { Period };

/**
 * All of the finance domain's data access. `rows` is the caller's view under the row-level rules
 * (subgraphs/kit/row-level.ts): invoices and payments are rows about their customer, and revenue
 * counts only the visible customers' invoices.
 */
export interface FinanceRepository {
  invoicesByIds(ids: readonly number[], rows: CustomerRows): Promise<InvoiceRecord[]>;
  invoicesOfOrders(orderIds: readonly number[], rows: CustomerRows): Promise<InvoiceRecord[]>;
  invoicesOfCustomers(customerIds: readonly number[], first: number, status: string | null, rows: CustomerRows): Promise<InvoiceRecord[]>;
  /** A page of each customer's invoices (newest first: issued_on DESC, id DESC), up to `page.limit` each, in one statement. */
  invoicePagesOfCustomers(customerIds: readonly number[], page: Page, status: string | null, rows: CustomerRows): Promise<InvoiceRecord[]>;
  /** One row per visible customer asked for (0 when nothing is outstanding); none for a hidden one. */
  outstandingOfCustomers(customerIds: readonly number[], rows: CustomerRows): Promise<{ customer_id: number; outstanding: number }[]>;
  paymentsOfInvoices(invoiceIds: readonly number[], rows: CustomerRows): Promise<PaymentRecord[]>;
  unitCosts(productIds: readonly number[]): Promise<{ product_id: number; unit_cost: number }[]>;
  revenue(args: { period: Period; from: string | null; to: string | null }, rows: CustomerRows): Promise<RevenueRecord[]>;
}

export const MIGRATION = `
  CREATE TABLE product_costs (product_id INTEGER PRIMARY KEY, unit_cost REAL NOT NULL);
  CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    order_id INTEGER NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    amount REAL NOT NULL,
    tax REAL NOT NULL,
    total REAL NOT NULL,
    status TEXT NOT NULL
  );
  CREATE INDEX invoices_customer ON invoices (customer_id, issued_on DESC);
  CREATE INDEX invoices_issued ON invoices (issued_on);
  CREATE TABLE invoice_lines (
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    net_amount REAL NOT NULL,
    unit_cost REAL NOT NULL
  );
  CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);
  CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    received_on TEXT NOT NULL,
    amount REAL NOT NULL,
    method TEXT NOT NULL
  );
  CREATE INDEX payments_invoice ON payments (invoice_id);
  ${CUSTOMER_SCOPE_MIGRATION}
`;

const INVOICE_SELECT = `SELECT i.*, COALESCE((SELECT ROUND(SUM(p.amount), 2) FROM payments p WHERE p.invoice_id = i.id), 0) AS paid_amount FROM invoices i`;

export function sqliteFinanceRepository(db: SqlDatabase): FinanceRepository {
  return {
    async invoicesByIds(ids, rows) {
      return db.all(`${INVOICE_SELECT} WHERE i.id IN (SELECT value FROM json_each(?1)) AND ${rows.visible('i.customer_id', 2)}`, inList(ids), rows.param);
    },
    async invoicesOfOrders(orderIds, rows) {
      return db.all(`${INVOICE_SELECT} WHERE i.order_id IN (SELECT value FROM json_each(?1)) AND ${rows.visible('i.customer_id', 2)}`, inList(orderIds), rows.param);
    },
    async invoicesOfCustomers(customerIds, first, status, rows) {
      return db.all(
        `SELECT * FROM (
           SELECT x.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY issued_on DESC, id DESC) AS rank FROM (
             ${INVOICE_SELECT} WHERE i.customer_id IN (SELECT value FROM json_each(?1)) AND (CAST(?2 AS TEXT) IS NULL OR i.status = ?2)
               AND ${rows.visible('i.customer_id', 4)}) x
         ) ranked WHERE rank <= ?3 ORDER BY customer_id, rank`,
        inList(customerIds),
        status,
        first,
        rows.param,
      );
    },
    async invoicePagesOfCustomers(customerIds, page, status, rows) {
      return db.all(
        `SELECT * FROM (
           SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.customer_id ORDER BY x.issued_on DESC, x.id DESC) AS page_rank FROM (
             ${INVOICE_SELECT} WHERE i.customer_id IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR i.status = ?2)
               AND ${afterCursor(['i.issued_on', 'i.id'], 'DESC', 3)} AND ${rows.visible('i.customer_id', 6)}) x
         ) ranked WHERE page_rank <= ?5 ORDER BY customer_id, page_rank`,
        inList(customerIds),
        status,
        ...page.after,
        page.limit,
        rows.param,
      );
    },
    async outstandingOfCustomers(customerIds, rows) {
      // Driven by the customer replica: 0 for a visible customer with nothing open, no row (null) for a hidden one.
      return db.all(
        `SELECT s.customer_id, ROUND(COALESCE(SUM(i.total - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0)), 0), 2) AS outstanding
         FROM customer_scope s LEFT JOIN invoices i ON i.customer_id = s.customer_id AND i.status IN ('OPEN', 'OVERDUE')
         WHERE s.customer_id IN (SELECT value FROM json_each(?1)) AND ${rows.scopeRow('s', 2)}
         GROUP BY s.customer_id`,
        inList(customerIds),
        rows.param,
      );
    },
    async paymentsOfInvoices(invoiceIds, rows) {
      return db.all(
        `SELECT p.* FROM payments p WHERE p.invoice_id IN (SELECT value FROM json_each(?1))
           AND ${rows.visible('(SELECT i.customer_id FROM invoices i WHERE i.id = p.invoice_id)', 2)}
         ORDER BY p.invoice_id, p.received_on`,
        inList(invoiceIds),
        rows.param,
      );
    },
    async unitCosts(productIds) {
      return db.all('SELECT * FROM product_costs WHERE product_id IN (SELECT value FROM json_each(?))', inList(productIds));
    },
    async revenue({ period, from, to }, rows) {
      return db.all(
        `SELECT ${periodBucket(period, 'i.issued_on', db.engine)} AS period, ROUND(SUM(l.net_amount), 2) AS revenue,
                ROUND(SUM(l.quantity * l.unit_cost), 2) AS cost_of_goods
         FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
         WHERE i.status != 'CREDITED' AND (CAST(?1 AS TEXT) IS NULL OR i.issued_on >= ?1) AND (CAST(?2 AS TEXT) IS NULL OR i.issued_on < ?2)
           AND ${rows.aggregate('i.customer_id', 3)}
         GROUP BY period ORDER BY period`,
        from,
        to,
        rows.param,
      );
    },
  };
}
