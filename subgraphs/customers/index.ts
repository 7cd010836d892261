import { fileURLToPath } from 'node:url';
import { loaderByKey, pageSize, toKey } from '../kit/batch-loaders.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import type { ForwardedIdentity } from '../mesh/identity.js';
import { visibleRegion } from '../kit/row-level.js';
import { MIGRATION, sqliteCustomersRepository, type CustomerRecord, type CustomersRepository } from './repository.js';
import { seedCustomers } from './seed.js';

const MAX_PAGE = 500;

const loaders = (repo: CustomersRepository, identity: ForwardedIdentity) => ({
  customer: loaderByKey((ids: readonly number[]) => repo.byIds(ids, visibleRegion(identity)), (c) => c.id),
});

type Context = DomainContext<CustomersRepository, ReturnType<typeof loaders>>;

export default defineDomain({
  name: 'customers',
  description: 'Customer master data: profiles, contact details (PII), regions',
  schemaPath: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  schemaVersion: 1,
  migrate: (db) => db.exec(MIGRATION),
  seed: seedCustomers,
  repository: sqliteCustomersRepository,
  loaders,
  resolvers: {
    Query: {
      customer: (_: unknown, { id }: { id: string }, ctx: Context) => ctx.loaders.customer.load(toKey(id)),
      customers: (_: unknown, args: { first: number; after?: string; region?: string }, ctx: Context) =>
        ctx.repo.list({
          first: pageSize(args.first, 20, MAX_PAGE),
          after: args.after ? toKey(args.after) : 0,
          region: args.region ?? null,
          visibleRegion: visibleRegion(ctx.identity),
        }),
    },
    Customer: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.customer.load(toKey(ref.id)),
      firstName: (c: CustomerRecord) => c.first_name,
      lastName: (c: CustomerRecord) => c.last_name,
      fullName: (c: CustomerRecord) => `${c.first_name} ${c.last_name}`,
      birthDate: (c: CustomerRecord) => c.birth_date,
      signupDate: (c: CustomerRecord) => c.signup_date,
    },
  },
});
