import { fileURLToPath } from 'node:url';
import { loaderByKey, pageSize, toKey } from '../kit/batch-loaders.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import { checkedAfterId, keyset, type PageArgs } from '../kit/paging.js';
import type { ForwardedIdentity } from '../mesh/identity.js';
import { CustomerRows, replicateCustomerScope } from '../kit/row-level.js';
import { customerScopeRows } from './replica.js';
import { MIGRATION, sqliteCustomersRepository, type CustomersRepository, type VisibleCustomer } from './repository.js';
import { seedCustomers } from './seed.js';

const MAX_PAGE = 500;
const CUSTOMERS = keyset({ name: 'Query.customersConnection', kinds: ['int'], keyOf: (c: VisibleCustomer) => [c.id], defaultFirst: 20, maxFirst: MAX_PAGE });

// Row-level rules (governance file `rowRules`): a customer out of the caller's scope is not read.
const loaders = (repo: CustomersRepository, identity: ForwardedIdentity) => ({
  customer: loaderByKey((ids: readonly number[]) => repo.byIds(ids, CustomerRows.of(identity)), (c) => c.id),
});

type Context = DomainContext<CustomersRepository, ReturnType<typeof loaders>>;

export default defineDomain({
  name: 'customers',
  description: 'Customer master data: profiles, contact details (PII), regions',
  schemaPath: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  schemaVersion: 2,
  migrate: (db) => db.exec(MIGRATION),
  seed: async (db, options) => {
    await seedCustomers(db, options);
    await replicateCustomerScope(db, customerScopeRows(options));
  },
  repository: sqliteCustomersRepository,
  loaders,
  resolvers: {
    Query: {
      customer: (_: unknown, { id }: { id: string }, ctx: Context) => ctx.loaders.customer.load(toKey(id)),
      customers: (_: unknown, args: { first: number; after?: string; region?: string }, ctx: Context) =>
        ctx.repo.list({
          first: pageSize(args.first, 20, MAX_PAGE),
          after: checkedAfterId(args.after),
          region: args.region ?? null,
          rows: CustomerRows.of(ctx.identity),
        }),
      customersConnection: async (_: unknown, args: PageArgs & { region?: string | null }, ctx: Context) => {
        const page = CUSTOMERS.page(args);
        const rows = await ctx.repo.list({ first: page.limit, after: Number(page.after[0] ?? 0), region: args.region ?? null, rows: CustomerRows.of(ctx.identity) });
        return CUSTOMERS.connection(rows, page);
      },
    },
    Customer: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.customer.load(toKey(ref.id)),
      firstName: (c: VisibleCustomer) => c.first_name,
      lastName: (c: VisibleCustomer) => c.last_name,
      fullName: (c: VisibleCustomer) => `${c.first_name} ${c.last_name}`,
      // Marketing-consent rule: no e-mail address or phone number for a channel the customer withdrew.
      email: (c: VisibleCustomer) => (c.email_allowed ? c.email : null),
      phone: (c: VisibleCustomer) => (c.sms_allowed ? c.phone : null),
      birthDate: (c: VisibleCustomer) => c.birth_date,
      signupDate: (c: VisibleCustomer) => c.signup_date,
    },
  },
});
