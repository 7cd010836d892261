import { fileURLToPath } from 'node:url';
import { loaderByKey, loaderOfLists, loaderPerArguments, pageSize, toKey } from '../kit/batch-loaders.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import { keyset, type Page, type PageArgs } from '../kit/paging.js';
import type { ForwardedIdentity } from '../mesh/identity.js';
import { CustomerRows, replicateCustomerScope } from '../kit/row-level.js';
import { customerScopeRows } from '../customers/replica.js';
import { MIGRATION, sqliteSalesRepository, type OrderLineRecord, type OrderRecord, type Period, type SalesRepository } from './repository.js';
import { seedSales } from './seed.js';

/** Customer.ordersConnection: newest first, so the key is (placed_at, id), both descending. */
const ORDERS = keyset({
  name: 'Customer.ordersConnection',
  kinds: ['text', 'int'],
  keyOf: (o: OrderRecord) => [o.placed_at, o.id],
  defaultFirst: 10,
  maxFirst: 100,
});

// Row-level rules (governance file `rowRules`), applied by every statement about customers' orders.
const loaders = (repo: SalesRepository, identity: ForwardedIdentity) => {
  const rows = CustomerRows.of(identity);
  return {
    rows,
    order: loaderByKey((ids: readonly number[]) => repo.ordersByIds(ids, rows), (o) => o.id),
    linesOfOrder: loaderOfLists((ids: readonly number[]) => repo.linesOfOrders(ids, rows), (l) => l.order_id),
    customerSales: loaderByKey((ids: readonly number[]) => repo.customerSales(ids, rows), (s) => s.customer_id),
    unitsSold: loaderByKey((ids: readonly number[]) => repo.unitsSold(ids, rows), (u) => u.product_id),
    recentOrders: loaderPerArguments((first: number) =>
      loaderOfLists((ids: readonly number[]) => repo.recentOrdersOfCustomers(ids, first, rows), (o) => o.customer_id),
    ),
    orderPages: loaderPerArguments((page: Page) =>
      loaderOfLists((ids: readonly number[]) => repo.orderPagesOfCustomers(ids, page, rows), (o) => o.customer_id),
    ),
    productTrend: loaderPerArguments(({ period, last }: { period: Period; last: number }) =>
      loaderOfLists((ids: readonly number[]) => repo.productTrends(ids, period, last, rows), (p) => p.product_id!),
    ),
  };
};

type Context = DomainContext<SalesRepository, ReturnType<typeof loaders>>;

export default defineDomain({
  name: 'sales',
  description: 'Order history and sales trends; contributes Customer.orders, Customer.lifetimeValue, Product.salesTrend',
  schemaPath: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  schemaVersion: 3,
  migrate: (db) => db.exec(MIGRATION),
  seed: async (db, options) => {
    await seedSales(db, options);
    await replicateCustomerScope(db, customerScopeRows(options));
  },
  repository: sqliteSalesRepository,
  loaders,
  resolvers: {
    Query: {
      order: (_: unknown, { id }: { id: string }, ctx: Context) => ctx.loaders.order.load(toKey(id)),
      salesTrends: (
        _: unknown,
        args: { period?: Period; from?: string; to?: string; region?: string; productId?: string; groupByRegion?: boolean },
        ctx: Context,
      ) =>
        ctx.repo.trends({
          period: args.period ?? 'MONTH',
          from: args.from ?? null,
          to: args.to ?? null,
          region: args.region ?? null,
          productId: args.productId ? toKey(args.productId) : null,
          groupByRegion: args.groupByRegion ?? false,
        }, ctx.loaders.rows),
    },
    Order: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.order.load(toKey(ref.id)),
      placedAt: (o: OrderRecord) => o.placed_at,
      customer: (o: OrderRecord) => ({ id: String(o.customer_id) }),
      lines: (o: OrderRecord, _: unknown, ctx: Context) => ctx.loaders.linesOfOrder.load(o.id),
    },
    OrderLine: {
      lineNumber: (l: OrderLineRecord) => l.line_number,
      unitPrice: (l: OrderLineRecord) => l.unit_price,
      product: (l: OrderLineRecord) => ({ id: String(l.product_id) }),
    },
    Customer: {
      // Sales does not own customers: a reference is just the key, no lookup needed.
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      orders: (c: { id: string }, args: { first?: number }, ctx: Context) =>
        ctx.loaders.recentOrders(pageSize(args.first, 10, 100)).load(toKey(c.id)),
      ordersConnection: async (c: { id: string }, args: PageArgs, ctx: Context) => {
        const page = ORDERS.page(args);
        return ORDERS.connection(await ctx.loaders.orderPages(page).load(toKey(c.id)), page);
      },
      // null for a customer the caller may not see (or that does not exist): never a wrong 0.
      orderCount: async (c: { id: string }, _: unknown, ctx: Context) =>
        (await ctx.loaders.customerSales.load(toKey(c.id)))?.order_count ?? null,
      lifetimeValue: async (c: { id: string }, _: unknown, ctx: Context) =>
        (await ctx.loaders.customerSales.load(toKey(c.id)))?.lifetime_value ?? null,
    },
    Product: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      salesTrend: (p: { id: string }, args: { period?: Period; last?: number }, ctx: Context) =>
        ctx.loaders.productTrend({ period: args.period ?? 'MONTH', last: pageSize(args.last, 12, 120, 'last') }).load(toKey(p.id)),
      unitsSold: async (p: { id: string }, _: unknown, ctx: Context) =>
        (await ctx.loaders.unitsSold.load(toKey(p.id)))?.units ?? 0,
    },
  },
});
