import { afterCursor, type Page } from '../kit/paging.js';
import { CUSTOMER_SCOPE_MIGRATION, type CustomerRows } from '../kit/row-level.js';
import { inList, type SqlDatabase } from '../kit/sql-database.js';

export interface SegmentRecord {
  id: number;
  name: string;
  description: string;
  customer_count: number;
}
export interface CampaignRecord {
  id: number;
  name: string;
  channel: string;
  starts_on: string;
  ends_on: string;
  budget: number;
  segment_id: number;
  response_rate: number;
}
export interface ResponseRecord {
  campaign_id: number;
  customer_id: number;
  kind: string;
  responded_at: string;
}
export interface ConsentRecord {
  customer_id: number;
  email_opt_in: number;
  sms_opt_in: number;
  profiling_opt_in: number;
  updated_at: string;
}

/**
 * All of the marketing domain's data access. `rows` is the caller's view under the row-level rules
 * (subgraphs/kit/row-level.ts): responses, segment membership and consent are rows about their
 * customer (responses need their campaign channel's consent under a consent-governed purpose,
 * membership profiling consent, consent decisions none), and segment sizes and response rates count
 * only the visible customers.
 */
export interface MarketingRepository {
  segmentsByIds(ids: readonly number[], rows: CustomerRows): Promise<SegmentRecord[]>;
  segments(rows: CustomerRows): Promise<SegmentRecord[]>;
  segmentOfCustomers(customerIds: readonly number[], rows: CustomerRows): Promise<{ customer_id: number; segment_id: number }[]>;
  consentsOfCustomers(customerIds: readonly number[], rows: CustomerRows): Promise<ConsentRecord[]>;
  campaignsByIds(ids: readonly number[], rows: CustomerRows): Promise<CampaignRecord[]>;
  campaigns(args: { first: number; activeOn: string | null }, rows: CustomerRows): Promise<CampaignRecord[]>;
  /** A page of campaigns, newest first (starts_on DESC, id DESC), up to `page.limit`. */
  campaignsPage(args: { page: Page; activeOn: string | null }, rows: CustomerRows): Promise<CampaignRecord[]>;
  /** A page of each customer's responses (newest first: responded_at DESC, campaign_id DESC), in one statement. */
  responsePagesOfCustomers(customerIds: readonly number[], page: Page, rows: CustomerRows): Promise<ResponseRecord[]>;
  /** A page of each campaign's responses (oldest first: responded_at, customer_id), in one statement. */
  responsePagesOfCampaigns(campaignIds: readonly number[], page: Page, rows: CustomerRows): Promise<ResponseRecord[]>;
  responsesOfCustomers(customerIds: readonly number[], first: number, rows: CustomerRows): Promise<ResponseRecord[]>;
  responsesOfCampaigns(campaignIds: readonly number[], first: number, rows: CustomerRows): Promise<ResponseRecord[]>;
}

export const MIGRATION = `
  CREATE TABLE segments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL);
  CREATE TABLE customer_segments (customer_id INTEGER PRIMARY KEY, segment_id INTEGER NOT NULL REFERENCES segments (id));
  CREATE INDEX customer_segments_segment ON customer_segments (segment_id);
  CREATE TABLE consents (
    customer_id INTEGER PRIMARY KEY,
    email_opt_in INTEGER NOT NULL,
    sms_opt_in INTEGER NOT NULL,
    profiling_opt_in INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    budget REAL NOT NULL,
    segment_id INTEGER NOT NULL REFERENCES segments (id)
  );
  CREATE TABLE campaign_responses (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    customer_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    responded_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, customer_id)
  );
  CREATE INDEX campaign_responses_customer ON campaign_responses (customer_id, responded_at DESC);
  ${CUSTOMER_SCOPE_MIGRATION}
`;

/** Segments with their size: the visible customers in each (parameter ?n carries the row rules). */
const segmentSelect = (rows: CustomerRows, n: number) =>
  `SELECT s.*, (SELECT COUNT(*) FROM customer_segments m WHERE m.segment_id = s.id AND ${rows.aggregate('m.customer_id', n)}) AS customer_count FROM segments s`;
/**
 * Campaigns with their response rate, over the visible customers (parameter ?n carries the row
 * rules); an empty segment divides by 1 (COALESCE(NULLIF(n, 0), 1): both engines' max(1, n)).
 */
const campaignSelect = (rows: CustomerRows, n: number) => `SELECT c.*, ROUND(
    (SELECT COUNT(*) FROM campaign_responses r WHERE r.campaign_id = c.id AND ${rows.aggregate('r.customer_id', n)}) * 1.0 /
    COALESCE(NULLIF((SELECT COUNT(*) FROM customer_segments m WHERE m.segment_id = c.segment_id AND ${rows.aggregate('m.customer_id', n)}), 0), 1), 4) AS response_rate
  FROM campaigns c`;
/** Responses with their campaign's channel: the consent a response needs depends on it. */
const RESPONSE_FROM = 'campaign_responses r JOIN campaigns c ON c.id = r.campaign_id';

export function sqliteMarketingRepository(db: SqlDatabase): MarketingRepository {
  return {
    async segmentsByIds(ids, rows) {
      return db.all(`${segmentSelect(rows, 2)} WHERE s.id IN (SELECT value FROM json_each(?1))`, inList(ids), rows.param);
    },
    async segments(rows) {
      return db.all(`${segmentSelect(rows, 1)} ORDER BY s.id`, rows.param);
    },
    async segmentOfCustomers(customerIds, rows) {
      return db.all(
        `SELECT m.* FROM customer_segments m WHERE m.customer_id IN (SELECT value FROM json_each(?1)) AND ${rows.visible('m.customer_id', 2)}`,
        inList(customerIds),
        rows.param,
      );
    },
    async consentsOfCustomers(customerIds, rows) {
      // The consent decisions themselves are never withheld for lack of consent: only the region rule applies.
      return db.all(
        `SELECT k.* FROM consents k WHERE k.customer_id IN (SELECT value FROM json_each(?1)) AND ${rows.visible('k.customer_id', 2, null)}`,
        inList(customerIds),
        rows.param,
      );
    },
    async campaignsByIds(ids, rows) {
      return db.all(`${campaignSelect(rows, 2)} WHERE c.id IN (SELECT value FROM json_each(?1))`, inList(ids), rows.param);
    },
    async campaigns({ first, activeOn }, rows) {
      return db.all(
        `${campaignSelect(rows, 3)} WHERE (CAST(?1 AS TEXT) IS NULL OR (c.starts_on <= ?1 AND c.ends_on >= ?1)) ORDER BY c.starts_on DESC, c.id DESC LIMIT ?2`,
        activeOn,
        first,
        rows.param,
      );
    },
    async campaignsPage({ page, activeOn }, rows) {
      return db.all(
        `${campaignSelect(rows, 5)} WHERE (?1 IS NULL OR (c.starts_on <= ?1 AND c.ends_on >= ?1)) AND ${afterCursor(['c.starts_on', 'c.id'], 'DESC', 2)}
         ORDER BY c.starts_on DESC, c.id DESC LIMIT ?4`,
        activeOn,
        ...page.after,
        page.limit,
        rows.param,
      );
    },
    async responsePagesOfCustomers(customerIds, page, rows) {
      return db.all(
        `SELECT campaign_id, customer_id, kind, responded_at FROM (
           SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.customer_id ORDER BY r.responded_at DESC, r.campaign_id DESC) AS page_rank
           FROM ${RESPONSE_FROM} WHERE r.customer_id IN (SELECT value FROM json_each(?1))
             AND ${afterCursor(['r.responded_at', 'r.campaign_id'], 'DESC', 2)}
             AND ${rows.visible('r.customer_id', 5, { campaignChannel: 'c.channel' })}
         ) ranked WHERE page_rank <= ?4 ORDER BY customer_id, page_rank`,
        inList(customerIds),
        ...page.after,
        page.limit,
        rows.param,
      );
    },
    async responsePagesOfCampaigns(campaignIds, page, rows) {
      return db.all(
        `SELECT campaign_id, customer_id, kind, responded_at FROM (
           SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.campaign_id ORDER BY r.responded_at, r.customer_id) AS page_rank
           FROM ${RESPONSE_FROM} WHERE r.campaign_id IN (SELECT value FROM json_each(?1))
             AND ${afterCursor(['r.responded_at', 'r.customer_id'], 'ASC', 2)}
             AND ${rows.visible('r.customer_id', 5, { campaignChannel: 'c.channel' })}
         ) ranked WHERE page_rank <= ?4 ORDER BY campaign_id, page_rank`,
        inList(campaignIds),
        ...page.after,
        page.limit,
        rows.param,
      );
    },
    async responsesOfCustomers(customerIds, first, rows) {
      return db.all(
        `SELECT campaign_id, customer_id, kind, responded_at FROM (
           SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.customer_id ORDER BY r.responded_at DESC) AS rank
           FROM ${RESPONSE_FROM} WHERE r.customer_id IN (SELECT value FROM json_each(?1))
             AND ${rows.visible('r.customer_id', 3, { campaignChannel: 'c.channel' })}
         ) ranked WHERE rank <= ?2 ORDER BY customer_id, rank`,
        inList(customerIds),
        first,
        rows.param,
      );
    },
    async responsesOfCampaigns(campaignIds, first, rows) {
      return db.all(
        `SELECT campaign_id, customer_id, kind, responded_at FROM (
           SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.campaign_id ORDER BY r.responded_at, r.customer_id) AS rank
           FROM ${RESPONSE_FROM} WHERE r.campaign_id IN (SELECT value FROM json_each(?1))
             AND ${rows.visible('r.customer_id', 3, { campaignChannel: 'c.channel' })}
         ) ranked WHERE rank <= ?2 ORDER BY campaign_id, rank`,
        inList(campaignIds),
        first,
        rows.param,
      );
    },
  };
}
