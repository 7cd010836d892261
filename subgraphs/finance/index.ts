import { fileURLToPath } from 'node:url';
import { loaderByKey, loaderOfLists, loaderPerArguments, pageSize, toKey } from '../kit/batch-loaders.js';
import { round2 } from '../kit/deterministic-random.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import { keyset, type Page, type PageArgs } from '../kit/paging.js';
import type { ForwardedIdentity } from '../mesh/identity.js';
import { CustomerRows, replicateCustomerScope } from '../kit/row-level.js';
import { customerScopeRows } from '../customers/replica.js';
import { MIGRATION, sqliteFinanceRepository, type FinanceRepository, type InvoiceRecord, type Period, type PaymentRecord, type RevenueRecord } from './repository.js';
import { seedFinance } from './seed.js';

/** Customer.invoicesConnection: newest first, so the key is (issued_on, id), both descending. */
const INVOICES = keyset({
  name: 'Customer.invoicesConnection',
  kinds: ['text', 'int'],
  keyOf: (i: InvoiceRecord) => [i.issued_on, i.id],
  defaultFirst: 10,
  maxFirst: 100,
});

// Row-level rules (governance file `rowRules`): invoices and payments are rows about their customer.
const loaders = (repo: FinanceRepository, identity: ForwardedIdentity) => {
  const rows = CustomerRows.of(identity);
  return {
    rows,
    invoice: loaderByKey((ids: readonly number[]) => repo.invoicesByIds(ids, rows), (i) => i.id),
    invoiceOfOrder: loaderByKey((ids: readonly number[]) => repo.invoicesOfOrders(ids, rows), (i) => i.order_id),
    paymentsOfInvoice: loaderOfLists((ids: readonly number[]) => repo.paymentsOfInvoices(ids, rows), (p) => p.invoice_id),
    outstanding: loaderByKey((ids: readonly number[]) => repo.outstandingOfCustomers(ids, rows), (o) => o.customer_id),
    unitCost: loaderByKey((ids: readonly number[]) => repo.unitCosts(ids), (c) => c.product_id),
    invoicePages: loaderPerArguments(({ page, status }: { page: Page; status: string | null }) =>
      loaderOfLists((ids: readonly number[]) => repo.invoicePagesOfCustomers(ids, page, status, rows), (i) => i.customer_id),
    ),
    invoicesOfCustomer: loaderPerArguments(({ first, status }: { first: number; status: string | null }) =>
      loaderOfLists((ids: readonly number[]) => repo.invoicesOfCustomers(ids, first, status, rows), (i) => i.customer_id),
    ),
  };
};

type Context = DomainContext<FinanceRepository, ReturnType<typeof loaders>>;
const costOf = async (p: { id: string }, ctx: Context) => (await ctx.loaders.unitCost.load(toKey(p.id)))?.unit_cost ?? 0;

export default defineDomain({
  name: 'finance',
  description: 'Invoices, payments, revenue and margin; contributes Order.invoice and Customer.invoices',
  schemaPath: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  schemaVersion: 2,
  migrate: (db) => db.exec(MIGRATION),
  seed: async (db, options) => {
    await seedFinance(db, options);
    await replicateCustomerScope(db, customerScopeRows(options));
  },
  repository: sqliteFinanceRepository,
  loaders,
  resolvers: {
    Query: {
      invoice: (_: unknown, { id }: { id: string }, ctx: Context) => ctx.loaders.invoice.load(toKey(id)),
      revenue: (_: unknown, args: { period?: Period; from?: string; to?: string }, ctx: Context) =>
        ctx.repo.revenue({ period: args.period ?? 'MONTH', from: args.from ?? null, to: args.to ?? null }, ctx.loaders.rows),
    },
    RevenueFigure: {
      costOfGoods: (r: RevenueRecord) => r.cost_of_goods,
      grossMargin: (r: RevenueRecord) => round2(r.revenue - r.cost_of_goods),
      marginRate: (r: RevenueRecord) => (r.revenue ? Math.round(((r.revenue - r.cost_of_goods) / r.revenue) * 10_000) / 10_000 : 0),
    },
    Invoice: {
      order: (i: InvoiceRecord) => ({ id: String(i.order_id) }),
      customer: (i: InvoiceRecord) => ({ id: String(i.customer_id) }),
      issuedOn: (i: InvoiceRecord) => i.issued_on,
      dueOn: (i: InvoiceRecord) => i.due_on,
      paidAmount: (i: InvoiceRecord) => i.paid_amount,
      payments: (i: InvoiceRecord, _: unknown, ctx: Context) => ctx.loaders.paymentsOfInvoice.load(i.id),
    },
    Payment: {
      receivedOn: (p: PaymentRecord) => p.received_on,
    },
    Order: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      invoice: (o: { id: string }, _: unknown, ctx: Context) => ctx.loaders.invoiceOfOrder.load(toKey(o.id)),
    },
    Customer: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      invoices: (c: { id: string }, args: { first?: number; status?: string }, ctx: Context) =>
        ctx.loaders
          .invoicesOfCustomer({ first: pageSize(args.first, 10, 100), status: args.status ?? null })
          .load(toKey(c.id)),
      invoicesConnection: async (c: { id: string }, args: PageArgs & { status?: string | null }, ctx: Context) => {
        const page = INVOICES.page(args);
        return INVOICES.connection(await ctx.loaders.invoicePages({ page, status: args.status ?? null }).load(toKey(c.id)), page);
      },
      outstandingBalance: async (c: { id: string }, _: unknown, ctx: Context) =>
        // null for a customer the caller may not see (or that does not exist): never a wrong 0.
        (await ctx.loaders.outstanding.load(toKey(c.id)))?.outstanding ?? null,
    },
    Product: {
      // @requires(fields: "price") means the gateway sends the price along with the key.
      __resolveReference: (ref: { id: string; price?: number }) => ref,
      unitCost: (p: { id: string }, _: unknown, ctx: Context) => costOf(p, ctx),
      unitMargin: async (p: { id: string; price: number }, _: unknown, ctx: Context) => round2(p.price - (await costOf(p, ctx))),
    },
  },
});
