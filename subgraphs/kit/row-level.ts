import type { ForwardedIdentity, RowScope } from '../mesh/identity.js';
import type { SqlDatabase } from './sql-database.js';

/**
 * The mesh's row-level rules about customers, applied the same way in every domain.
 *
 * The rules are declared once, in the governance file (`rowRules`); the gateway evaluates them per
 * request and forwards the outcome, signed, as `identity.rows.Customer`: the region the caller may
 * see (`match.region`) and whether consent applies (the request's purpose is one the consent rule
 * covers). Every repository query that returns rows about a customer — the customer, its orders
 * and lines, invoices and payments, campaign responses, segment membership, consent, and the
 * per-customer figures — adds one of the conditions below, so an out-of-scope row is never read:
 * absent from lists, null where singular. Aggregates add `aggregate()`: computed over the visible
 * customers only (the region rule; consent governs rows about a person, not statistics).
 *
 * Each domain that returns such rows keeps a replica of what the rules read about each customer
 * (`customer_scope`: region from customer-profiles, consent flags from marketing-consent), filled
 * from those products like any input port, so a rule never needs another domain at request time.
 */
export const CUSTOMER_SCOPE_MIGRATION = `
  CREATE TABLE customer_scope (
    customer_id INTEGER PRIMARY KEY,
    region TEXT NOT NULL,
    email_opt_in INTEGER NOT NULL,
    sms_opt_in INTEGER NOT NULL,
    profiling_opt_in INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX customer_scope_region ON customer_scope (region, customer_id);
`;

export interface CustomerScopeRow {
  customer_id: number;
  region: string;
  email_opt_in: 0 | 1;
  sms_opt_in: 0 | 1;
  profiling_opt_in: 0 | 1;
}

/** Fills the replica (at seed time, or when the source products publish changes): a row per customer, replaced. */
export async function replicateCustomerScope(db: SqlDatabase, rows: Iterable<CustomerScopeRow>): Promise<void> {
  const insert = db.inserter('customer_scope', ['customer_id', 'region', 'email_opt_in', 'sms_opt_in', 'profiling_opt_in'], { upsertKey: 'customer_id' });
  for (const row of rows) await insert.add(row as unknown as Record<string, unknown>);
  await insert.done();
}

/**
 * The consent a row needs under a consent-governed purpose. Contact details need their channel's
 * consent; campaign responses their campaign's channel (social and display targeting is profiling);
 * every other behavioural row (orders, invoices, segment) profiling consent.
 */
export type ConsentChannel = 'EMAIL' | 'SMS' | 'PROFILING';
const CONSENT_COLUMN: Record<ConsentChannel, string> = { EMAIL: 'email_opt_in', SMS: 'sms_opt_in', PROFILING: 'profiling_opt_in' };
/** A campaign channel → the consent it needs. */
export const CAMPAIGN_CHANNEL_CONSENT: Record<string, ConsentChannel> = { EMAIL: 'EMAIL', SMS: 'SMS', SOCIAL: 'PROFILING', DISPLAY: 'PROFILING' };

/** How a query says which consent its rows need: a channel, the column holding a campaign channel, or none. */
export type ConsentNeed = ConsentChannel | { campaignChannel: string } | null;

/** Matches no row's region: what a malformed `region` claim restricts to. */
export const NO_REGION = '';

/** Attributes of Customer the replica holds, so a match rule can name them. */
const REPLICATED = new Set(['region']);

/**
 * One request's view of the Customer row rules. Each condition uses one numbered parameter (`?n`,
 * bound to `param`), and its SQL text depends only on which rules apply (at most a few cached
 * statements per query); an unrestricted caller's condition is `CAST(?n AS TEXT) IS NULL`, which
 * costs nothing (the CAST tells PostgreSQL the parameter's type, which IS NULL alone does not).
 */
export class CustomerRows {
  /** The region to match (NO_REGION for a malformed claim), or null when the region rule does not apply. */
  readonly param: string | null;
  /** Consent applies to this request (its purpose is consent-governed). */
  readonly consent: boolean;
  /** A rule this replica cannot evaluate (an attribute it does not hold): nothing is visible. */
  private readonly nothing: boolean;

  constructor(scope: RowScope | undefined) {
    const match = scope?.match ?? {};
    this.nothing = Object.keys(match).some((attribute) => !REPLICATED.has(attribute));
    this.param = 'region' in match ? (match.region ?? NO_REGION) : null;
    this.consent = scope?.consent ?? false;
  }

  static of(identity: ForwardedIdentity): CustomerRows {
    return new CustomerRows(identity.rows?.Customer ?? identity.rows?.['*']);
  }

  /** Whether any rule restricts this request (consent counts only where a query needs it). */
  get restricted(): boolean {
    return this.nothing || this.param !== null || this.consent;
  }

  /**
   * Rows about the customer whose id is `idColumn` (an SQL expression, e.g. `o.customer_id`):
   * within the caller's region and, under a consent-governed purpose, consented to for `need`.
   */
  visible(idColumn: string, n: number, need: ConsentNeed = 'PROFILING'): string {
    const conditions = this.conditions('row_scope', n, need);
    if (conditions === null) return unrestricted(n);
    return `EXISTS (SELECT 1 FROM customer_scope row_scope WHERE row_scope.customer_id = ${idColumn} AND ${conditions})`;
  }

  /** The same, on a `customer_scope` row the query already reads (alias): for per-customer figures. */
  scopeRow(alias: string, n: number, need: ConsentNeed = 'PROFILING'): string {
    return this.conditions(alias, n, need) ?? unrestricted(n);
  }

  /** Aggregates: only the visible customers' rows count (the region rule; consent is for rows about a person). */
  aggregate(idColumn: string, n: number): string {
    return this.visible(idColumn, n, null);
  }

  /** Aggregates materialised per region: only the caller's region counts. */
  inRegion(regionColumn: string, n: number): string {
    if (this.nothing) return nothingVisible(n);
    return this.param === null ? unrestricted(n) : `${regionColumn} = ?${n}`;
  }

  /**
   * Select-list columns `email_allowed` and `sms_allowed` (1 or 0) for the customer `idColumn`:
   * under a consent-governed purpose, whether its contact details of that channel may be returned.
   */
  contactConsent(idColumn: string): string {
    if (!this.consent) return '1 AS email_allowed, 1 AS sms_allowed';
    const flag = (column: string) => `COALESCE((SELECT ${column} FROM customer_scope row_scope WHERE row_scope.customer_id = ${idColumn}), 0)`;
    return `${flag('email_opt_in')} AS email_allowed, ${flag('sms_opt_in')} AS sms_allowed`;
  }

  private conditions(alias: string, n: number, need: ConsentNeed): string | null {
    if (this.nothing) return nothingVisible(n);
    const consent = this.consent && need !== null ? consentCondition(alias, need) : null;
    if (this.param === null && consent === null) return null;
    const region = this.param === null ? unrestricted(n) : `${alias}.region = ?${n}`;
    return consent ? `${region} AND ${consent}` : region;
  }
}

/** True, binding parameter n (unused): the statement's parameters stay the same whichever rules apply. */
const unrestricted = (n: number) => `CAST(?${n} AS TEXT) IS NULL`;
/** False, binding parameter n. */
const nothingVisible = (n: number) => `(CAST(?${n} AS TEXT) IS NULL AND 1 = 0)`;

function consentCondition(alias: string, need: Exclude<ConsentNeed, null>): string {
  if (typeof need === 'string') return `${alias}.${CONSENT_COLUMN[need]} = 1`;
  const cases = Object.entries(CAMPAIGN_CHANNEL_CONSENT)
    .filter(([, consent]) => consent !== 'PROFILING')
    .map(([channel, consent]) => `WHEN '${channel}' THEN ${alias}.${CONSENT_COLUMN[consent]}`)
    .join(' ');
  return `(CASE ${need.campaignChannel} ${cases} ELSE ${alias}.${CONSENT_COLUMN.PROFILING} END) = 1`;
}

/** The region the caller is restricted to (NO_REGION when malformed), or null when it is not. */
export function visibleRegion(identity: ForwardedIdentity): string | null {
  return CustomerRows.of(identity).param;
}
