import type { SeedOptions } from '../kit/domain.js';
import { entityCounts } from '../kit/deterministic-random.js';
import type { CustomerScopeRow } from '../kit/row-level.js';
import { generateMarketingCustomer } from '../marketing/seed.js';
import { generateCustomer } from './seed.js';

/**
 * What every domain with rows about customers replicates for the row-level rules
 * (subgraphs/kit/row-level.ts): each customer's region, as customer-profiles publishes it, and
 * consent decisions, as marketing-consent publishes them. A pure function of the seed, so every
 * domain's replica agrees with the sources.
 */
export function* customerScopeRows({ scale, seed }: SeedOptions): Generator<CustomerScopeRow> {
  const { customers } = entityCounts(scale);
  for (let id = 1; id <= customers; id++) {
    const { consent } = generateMarketingCustomer(seed, id);
    yield {
      customer_id: id,
      region: generateCustomer(seed, id).region,
      email_opt_in: consent.email_opt_in,
      sms_opt_in: consent.sms_opt_in,
      profiling_opt_in: consent.profiling_opt_in,
    };
  }
}
