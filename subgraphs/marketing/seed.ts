import type { SeedOptions } from '../kit/domain.js';
import { DATA_END, DATA_START, Random, addDays, entityCounts, isoDate, isoDateTime, randomInstant } from '../kit/deterministic-random.js';
import type { SqlDatabase } from '../kit/sql-database.js';
import { replicateCustomerScope } from '../kit/row-level.js';
import { customerScopeRows } from '../customers/replica.js';

export const SEGMENTS = [
  { id: 1, name: 'Loyal Champions', description: 'Frequent, recent, high-value buyers' },
  { id: 2, name: 'Rising Stars', description: 'New customers with a fast-growing basket' },
  { id: 3, name: 'Bargain Hunters', description: 'Buy mostly on discount' },
  { id: 4, name: 'Outdoor Enthusiasts', description: 'Strong affinity for outdoor and sports products' },
  { id: 5, name: 'At Risk', description: 'Used to buy often, quiet for months' },
  { id: 6, name: 'Dormant', description: 'No purchase in over a year' },
];
const CHANNELS = ['EMAIL', 'SMS', 'SOCIAL', 'DISPLAY'];
const THEMES = ['Spring Sale', 'Back to School', 'Black Friday', 'Winter Warmers', 'Summer Outdoors', 'Loyalty Rewards', 'New Arrivals', 'Win-Back'];

export interface ConsentDecision {
  email_opt_in: 0 | 1;
  sms_opt_in: 0 | 1;
  profiling_opt_in: 0 | 1;
  updated_at: string;
}

/**
 * One customer's consent decisions and segment as a pure function of (seed, id): the consent is
 * what the marketing-consent product publishes, and other domains replicate it for row rules.
 */
export function generateMarketingCustomer(seed: number, id: number): { consent: ConsentDecision; segment: number | null } {
  const rng = Random.for(seed, 'marketing-customer', id);
  const profiling = rng.chance(0.8);
  const email = rng.chance(0.7);
  const sms = rng.chance(0.35);
  const consent: ConsentDecision = { email_opt_in: email ? 1 : 0, sms_opt_in: sms ? 1 : 0, profiling_opt_in: profiling ? 1 : 0, updated_at: isoDateTime(randomInstant(rng)) };
  if (!profiling) return { consent, segment: null };
  return { consent, segment: rng.weighted(SEGMENTS.map((s, i) => [s.id, [8, 12, 20, 15, 10, 9][i]!] as [number, number])) };
}

export async function seedMarketing(db: SqlDatabase, { scale, seed }: SeedOptions): Promise<void> {
  const counts = entityCounts(scale);
  const insertSegment = db.inserter('segments', ['id', 'name', 'description']);
  for (const s of SEGMENTS) await insertSegment.add([s.id, s.name, s.description]);
  await insertSegment.done();

  const insertMember = db.inserter('customer_segments', ['customer_id', 'segment_id']);
  const insertConsent = db.inserter('consents', ['customer_id', 'email_opt_in', 'sms_opt_in', 'profiling_opt_in', 'updated_at']);
  const membersOf = new Map<number, number[]>();
  for (let id = 1; id <= counts.customers; id++) {
    const { consent, segment } = generateMarketingCustomer(seed, id);
    await insertConsent.add([id, consent.email_opt_in, consent.sms_opt_in, consent.profiling_opt_in, consent.updated_at]);
    // Customers who refused profiling are not segmented: consent is enforced at the source.
    if (segment === null) continue;
    await insertMember.add([id, segment]);
    (membersOf.get(segment) ?? membersOf.set(segment, []).get(segment)!).push(id);
  }
  await insertConsent.done();
  await insertMember.done();
  await replicateCustomerScope(db, customerScopeRows({ scale, seed }));

  const insertCampaign = db.inserter('campaigns', ['id', 'name', 'channel', 'starts_on', 'ends_on', 'budget', 'segment_id']);
  const insertResponse = db.inserter('campaign_responses', ['campaign_id', 'customer_id', 'kind', 'responded_at']);
  const campaigns = Math.max(12, Math.round(36 * Math.sqrt(scale)));
  for (let id = 1; id <= campaigns; id++) {
    const rng = Random.for(seed, 'campaign', id);
    const start = DATA_START + Math.floor(((DATA_END - DATA_START - 40 * 86_400_000) * (id - 1)) / campaigns);
    const end = addDays(start, rng.int(7, 35));
    const segment = rng.pick(SEGMENTS).id;
    await insertCampaign.add([id, `${rng.pick(THEMES)} ${new Date(start).getUTCFullYear()}`, rng.pick(CHANNELS), isoDate(start), isoDate(end), rng.int(5, 80) * 1000, segment]);
    for (const customerId of membersOf.get(segment) ?? []) {
      if (!rng.chance(0.25)) continue;
      const kind = rng.weighted([['OPENED', 60], ['CLICKED', 25], ['CONVERTED', 10], ['UNSUBSCRIBED', 5]] as [string, number][]);
      await insertResponse.add([id, customerId, kind, isoDateTime(randomInstant(rng, start, end))]);
    }
  }
  await insertCampaign.done();
  await insertResponse.done();
}
