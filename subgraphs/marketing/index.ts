import { fileURLToPath } from 'node:url';
import { loaderByKey, loaderOfLists, loaderPerArguments, pageSize, toKey } from '../kit/batch-loaders.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import { keyset, type Page, type PageArgs } from '../kit/paging.js';
import {
  MIGRATION,
  sqliteMarketingRepository,
  type CampaignRecord,
  type ConsentRecord,
  type MarketingRepository,
  type ResponseRecord,
  type SegmentRecord,
} from './repository.js';
import { seedMarketing } from './seed.js';
import type { ForwardedIdentity } from '../mesh/identity.js';
import { CustomerRows } from '../kit/row-level.js';

const CAMPAIGNS = keyset({ name: 'Query.campaignsConnection', kinds: ['text', 'int'], keyOf: (c: CampaignRecord) => [c.starts_on, c.id], defaultFirst: 20, maxFirst: 500 });
const CAMPAIGN_RESPONSES = keyset({
  name: 'Campaign.responsesConnection',
  kinds: ['text', 'int'],
  keyOf: (r: ResponseRecord) => [r.responded_at, r.customer_id],
  defaultFirst: 20,
  maxFirst: 500,
});
const CUSTOMER_RESPONSES = keyset({
  name: 'Customer.campaignResponsesConnection',
  kinds: ['text', 'int'],
  keyOf: (r: ResponseRecord) => [r.responded_at, r.campaign_id],
  defaultFirst: 10,
  maxFirst: 100,
});

// Row-level rules (governance file `rowRules`): responses, memberships and consents are rows about
// their customer; segment sizes and response rates count only the visible customers.
const loaders = (repo: MarketingRepository, identity: ForwardedIdentity) => {
  const rows = CustomerRows.of(identity);
  return {
    rows,
    segment: loaderByKey((ids: readonly number[]) => repo.segmentsByIds(ids, rows), (s) => s.id),
    segmentOfCustomer: loaderByKey((ids: readonly number[]) => repo.segmentOfCustomers(ids, rows), (m) => m.customer_id),
    consent: loaderByKey((ids: readonly number[]) => repo.consentsOfCustomers(ids, rows), (c) => c.customer_id),
    campaign: loaderByKey((ids: readonly number[]) => repo.campaignsByIds(ids, rows), (c) => c.id),
    responsesOfCustomer: loaderPerArguments((first: number) =>
      loaderOfLists((ids: readonly number[]) => repo.responsesOfCustomers(ids, first, rows), (r) => r.customer_id),
    ),
    responsePagesOfCustomer: loaderPerArguments((page: Page) =>
      loaderOfLists((ids: readonly number[]) => repo.responsePagesOfCustomers(ids, page, rows), (r) => r.customer_id),
    ),
    responsePagesOfCampaign: loaderPerArguments((page: Page) =>
      loaderOfLists((ids: readonly number[]) => repo.responsePagesOfCampaigns(ids, page, rows), (r) => r.campaign_id),
    ),
    responsesOfCampaign: loaderPerArguments((first: number) =>
      loaderOfLists((ids: readonly number[]) => repo.responsesOfCampaigns(ids, first, rows), (r) => r.campaign_id),
    ),
  };
};

type Context = DomainContext<MarketingRepository, ReturnType<typeof loaders>>;

export default defineDomain({
  name: 'marketing',
  description: 'Segments, campaigns, campaign responses and consent; contributes Customer.segment and Customer.consent',
  schemaPath: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  schemaVersion: 2,
  migrate: (db) => db.exec(MIGRATION),
  seed: seedMarketing,
  repository: sqliteMarketingRepository,
  loaders,
  resolvers: {
    Query: {
      segments: (_: unknown, __: unknown, ctx: Context) => ctx.repo.segments(ctx.loaders.rows),
      campaign: (_: unknown, { id }: { id: string }, ctx: Context) => ctx.loaders.campaign.load(toKey(id)),
      campaigns: (_: unknown, args: { first?: number; activeOn?: string }, ctx: Context) =>
        ctx.repo.campaigns({ first: pageSize(args.first, 20, 500), activeOn: args.activeOn ?? null }, ctx.loaders.rows),
      campaignsConnection: async (_: unknown, args: PageArgs & { activeOn?: string | null }, ctx: Context) => {
        const page = CAMPAIGNS.page(args);
        return CAMPAIGNS.connection(await ctx.repo.campaignsPage({ page, activeOn: args.activeOn ?? null }, ctx.loaders.rows), page);
      },
    },
    Segment: {
      customerCount: (s: SegmentRecord) => s.customer_count,
    },
    Campaign: {
      startsOn: (c: CampaignRecord) => c.starts_on,
      endsOn: (c: CampaignRecord) => c.ends_on,
      responseRate: (c: CampaignRecord) => c.response_rate,
      segment: (c: CampaignRecord, _: unknown, ctx: Context) => ctx.loaders.segment.load(c.segment_id),
      responses: (c: CampaignRecord, args: { first?: number }, ctx: Context) =>
        ctx.loaders.responsesOfCampaign(pageSize(args.first, 20, 500)).load(c.id),
      responsesConnection: async (c: CampaignRecord, args: PageArgs, ctx: Context) => {
        const page = CAMPAIGN_RESPONSES.page(args);
        return CAMPAIGN_RESPONSES.connection(await ctx.loaders.responsePagesOfCampaign(page).load(c.id), page);
      },
    },
    CampaignResponse: {
      campaign: (r: ResponseRecord, _: unknown, ctx: Context) => ctx.loaders.campaign.load(r.campaign_id),
      customer: (r: ResponseRecord) => ({ id: String(r.customer_id) }),
      respondedAt: (r: ResponseRecord) => r.responded_at,
    },
    Consent: {
      emailOptIn: (c: ConsentRecord) => c.email_opt_in === 1,
      smsOptIn: (c: ConsentRecord) => c.sms_opt_in === 1,
      profilingOptIn: (c: ConsentRecord) => c.profiling_opt_in === 1,
      updatedAt: (c: ConsentRecord) => c.updated_at,
    },
    Customer: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      segment: async (c: { id: string }, _: unknown, ctx: Context) => {
        const membership = await ctx.loaders.segmentOfCustomer.load(toKey(c.id));
        return membership ? ctx.loaders.segment.load(membership.segment_id) : null;
      },
      consent: (c: { id: string }, _: unknown, ctx: Context) => ctx.loaders.consent.load(toKey(c.id)),
      campaignResponses: (c: { id: string }, args: { first?: number }, ctx: Context) =>
        ctx.loaders.responsesOfCustomer(pageSize(args.first, 10, 100)).load(toKey(c.id)),
      campaignResponsesConnection: async (c: { id: string }, args: PageArgs, ctx: Context) => {
        const page = CUSTOMER_RESPONSES.page(args);
        return CUSTOMER_RESPONSES.connection(await ctx.loaders.responsePagesOfCustomer(page).load(toKey(c.id)), page);
      },
    },
  },
});
