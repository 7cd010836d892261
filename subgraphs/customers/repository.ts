import { inList, type SqlDatabase } from '../kit/sql-database.js';
import type { CustomerRecord } from './seed.js';

export type { CustomerRecord };

/**
 * All of the customers domain's data access. Resolvers never see SQL; a PostgreSQL engine would
 * implement this same interface.
 */
export interface CustomersRepository {
  /** `visibleRegion` is the caller's row-level restriction (null = all regions). */
  byIds(ids: readonly number[], visibleRegion: string | null): Promise<CustomerRecord[]>;
  list(args: { first: number; after: number; region: string | null; visibleRegion: string | null }): Promise<CustomerRecord[]>;
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
`;

export function sqliteCustomersRepository(db: SqlDatabase): CustomersRepository {
  return {
    async byIds(ids, visibleRegion) {
      return db.all<CustomerRecord>(
        'SELECT * FROM customers WHERE id IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR region = ?2)',
        inList(ids),
        visibleRegion,
      );
    },
    async list({ first, after, region, visibleRegion }) {
      return db.all<CustomerRecord>(
        `SELECT * FROM customers WHERE id > ?1 AND (?2 IS NULL OR region = ?2) AND (?3 IS NULL OR region = ?3)
         ORDER BY id LIMIT ?4`,
        after,
        region,
        visibleRegion,
        first,
      );
    },
  };
}
