import { inList, type SqlDatabase } from '../kit/sql-database.js';
import type { CustomerRecord } from './seed.js';

export type { CustomerRecord };

/**
 * All of the customers domain's data access. Resolvers never see SQL; a PostgreSQL engine would
 * implement this same interface.
 */
export interface CustomersRepository {
  byIds(ids: readonly number[]): Promise<CustomerRecord[]>;
  list(args: { first: number; after: number; region: string | null }): Promise<CustomerRecord[]>;
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
    async byIds(ids) {
      return db.all<CustomerRecord>('SELECT * FROM customers WHERE id IN (SELECT value FROM json_each(?))', inList(ids));
    },
    async list({ first, after, region }) {
      return db.all<CustomerRecord>(
        'SELECT * FROM customers WHERE id > ? AND (? IS NULL OR region = ?) ORDER BY id LIMIT ?',
        after,
        region,
        region,
        first,
      );
    },
  };
}
