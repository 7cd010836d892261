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

/** All of the marketing domain's data access. */
export interface MarketingRepository {
  segmentsByIds(ids: readonly number[]): Promise<SegmentRecord[]>;
  segments(): Promise<SegmentRecord[]>;
  segmentOfCustomers(customerIds: readonly number[]): Promise<{ customer_id: number; segment_id: number }[]>;
  consentsOfCustomers(customerIds: readonly number[]): Promise<ConsentRecord[]>;
  campaignsByIds(ids: readonly number[]): Promise<CampaignRecord[]>;
  campaigns(args: { first: number; activeOn: string | null }): Promise<CampaignRecord[]>;
  responsesOfCustomers(customerIds: readonly number[], first: number): Promise<ResponseRecord[]>;
  responsesOfCampaigns(campaignIds: readonly number[], first: number): Promise<ResponseRecord[]>;
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
`;

const SEGMENT_SELECT = `SELECT s.*, (SELECT COUNT(*) FROM customer_segments m WHERE m.segment_id = s.id) AS customer_count FROM segments s`;
const CAMPAIGN_SELECT = `SELECT c.*, ROUND(
    (SELECT COUNT(*) FROM campaign_responses r WHERE r.campaign_id = c.id) * 1.0 /
    MAX(1, (SELECT COUNT(*) FROM customer_segments m WHERE m.segment_id = c.segment_id)), 4) AS response_rate
  FROM campaigns c`;

export function sqliteMarketingRepository(db: SqlDatabase): MarketingRepository {
  return {
    async segmentsByIds(ids) {
      return db.all(`${SEGMENT_SELECT} WHERE s.id IN (SELECT value FROM json_each(?))`, inList(ids));
    },
    async segments() {
      return db.all(`${SEGMENT_SELECT} ORDER BY s.id`);
    },
    async segmentOfCustomers(customerIds) {
      return db.all('SELECT * FROM customer_segments WHERE customer_id IN (SELECT value FROM json_each(?))', inList(customerIds));
    },
    async consentsOfCustomers(customerIds) {
      return db.all('SELECT * FROM consents WHERE customer_id IN (SELECT value FROM json_each(?))', inList(customerIds));
    },
    async campaignsByIds(ids) {
      return db.all(`${CAMPAIGN_SELECT} WHERE c.id IN (SELECT value FROM json_each(?))`, inList(ids));
    },
    async campaigns({ first, activeOn }) {
      return db.all(
        `${CAMPAIGN_SELECT} WHERE (?1 IS NULL OR (c.starts_on <= ?1 AND c.ends_on >= ?1)) ORDER BY c.starts_on DESC, c.id DESC LIMIT ?2`,
        activeOn,
        first,
      );
    },
    async responsesOfCustomers(customerIds, first) {
      return db.all(
        `SELECT campaign_id, customer_id, kind, responded_at FROM (
           SELECT r.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY responded_at DESC) AS rank
           FROM campaign_responses r WHERE customer_id IN (SELECT value FROM json_each(?))
         ) WHERE rank <= ? ORDER BY customer_id, rank`,
        inList(customerIds),
        first,
      );
    },
    async responsesOfCampaigns(campaignIds, first) {
      return db.all(
        `SELECT campaign_id, customer_id, kind, responded_at FROM (
           SELECT r.*, ROW_NUMBER() OVER (PARTITION BY campaign_id ORDER BY responded_at, customer_id) AS rank
           FROM campaign_responses r WHERE campaign_id IN (SELECT value FROM json_each(?))
         ) WHERE rank <= ? ORDER BY campaign_id, rank`,
        inList(campaignIds),
        first,
      );
    },
  };
}
