import { CUSTOMER_SCOPE_MIGRATION, type CustomerRows } from '../kit/row-level.js';
import { inList, type SqlDatabase } from '../kit/sql-database.js';
import type { CustomerRecord } from './seed.js';

/** A customer as read for one request: under a consent-governed purpose, which contact details it may see. */
export interface VisibleCustomer extends CustomerRecord {
  email_allowed: 0 | 1;
  sms_allowed: 0 | 1;
}
export type { CustomerRecord };

/**
 * All of the customers domain's data access. Resolvers never see SQL; the same SQL runs on SQLite
 * and PostgreSQL (subgraphs/kit/sql-dialect.ts says what both accept).
 */
export interface CustomersRepository {
  /** `rows` is the caller's view under the row-level rules (subgraphs/kit/row-level.ts). */
  byIds(ids: readonly number[], rows: CustomerRows): Promise<VisibleCustomer[]>;
  list(args: { first: number; after: number; region: string | null; rows: CustomerRows }): Promise<VisibleCustomer[]>;
}

export const MIGRATION = `
  CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    birth_date TEXT,
    region TEXT NOT NULL,
    country TEXT NOT NULL,
    city TEXT NOT NULL,
    signup_date TEXT NOT NULL
  );
  CREATE INDEX customers_region ON customers (region, id);
  ${CUSTOMER_SCOPE_MIGRATION}
`;

export function sqliteCustomersRepository(db: SqlDatabase): CustomersRepository {
  return {
    // The customer row itself is about no channel: consent only governs its contact details.
    async byIds(ids, rows) {
      return db.all<VisibleCustomer>(
        `SELECT c.*, ${rows.contactConsent('c.id')} FROM customers c WHERE c.id IN (SELECT value FROM json_each(?1)) AND ${rows.inRegion('c.region', 2)}`,
        inList(ids),
        rows.param,
      );
    },
    async list({ first, after, region, rows }) {
      return db.all<VisibleCustomer>(
        `SELECT c.*, ${rows.contactConsent('c.id')} FROM customers c WHERE c.id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR c.region = ?2) AND ${rows.inRegion('c.region', 3)}
         ORDER BY c.id LIMIT ?4`,
        after,
        region,
        rows.param,
        first,
      );
    },
  };
}
