import { afterCursor, type Page } from '../kit/paging.js';
import { inList, type SqlDatabase } from '../kit/sql-database.js';
import type { ProductRecord } from './seed.js';

export type { ProductRecord };
export interface CategoryRecord {
  id: number;
  name: string;
}

/** All of the products domain's data access (see customers/repository.ts for why). */
export interface ProductsRepository {
  byIds(ids: readonly number[]): Promise<ProductRecord[]>;
  bySku(sku: string): Promise<ProductRecord | undefined>;
  list(args: { first: number; after: number; categoryId: number | null }): Promise<ProductRecord[]>;
  /** The first `first` products of each category, one statement for all categories asked. */
  byCategories(categoryIds: readonly number[], first: number): Promise<ProductRecord[]>;
  /** A page of each category's products (by id), up to `page.limit` each, in one statement. */
  pagesOfCategories(categoryIds: readonly number[], page: Page): Promise<ProductRecord[]>;
  categoriesByIds(ids: readonly number[]): Promise<CategoryRecord[]>;
  categories(): Promise<CategoryRecord[]>;
}

export const MIGRATION = `
  CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories (id),
    price REAL NOT NULL CHECK (price > 0),
    currency TEXT NOT NULL,
    attributes TEXT NOT NULL,
    launched_on TEXT NOT NULL
  );
  CREATE INDEX products_category ON products (category_id, id);
`;

export function sqliteProductsRepository(db: SqlDatabase): ProductsRepository {
  return {
    async byIds(ids) {
      return db.all('SELECT * FROM products WHERE id IN (SELECT value FROM json_each(?))', inList(ids));
    },
    async bySku(sku) {
      return db.get('SELECT * FROM products WHERE sku = ?', sku);
    },
    async list({ first, after, categoryId }) {
      return db.all(
        'SELECT * FROM products WHERE id > ?1 AND (CAST(?2 AS INTEGER) IS NULL OR category_id = ?2) ORDER BY id LIMIT ?3',
        after,
        categoryId,
        first,
      );
    },
    async byCategories(categoryIds, first) {
      return db.all(
        `SELECT * FROM (
           SELECT p.*, ROW_NUMBER() OVER (PARTITION BY category_id ORDER BY id) AS rank
           FROM products p WHERE category_id IN (SELECT value FROM json_each(?))
         ) ranked WHERE rank <= ? ORDER BY category_id, id`,
        inList(categoryIds),
        first,
      );
    },
    async pagesOfCategories(categoryIds, page) {
      return db.all(
        `SELECT * FROM (
           SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.category_id ORDER BY p.id) AS page_rank
           FROM products p WHERE p.category_id IN (SELECT value FROM json_each(?1)) AND ${afterCursor(['p.id'], 'ASC', 2)}
         ) ranked WHERE page_rank <= ?3 ORDER BY category_id, id`,
        inList(categoryIds),
        ...page.after,
        page.limit,
      );
    },
    async categoriesByIds(ids) {
      return db.all('SELECT * FROM categories WHERE id IN (SELECT value FROM json_each(?))', inList(ids));
    },
    async categories() {
      return db.all('SELECT * FROM categories ORDER BY id');
    },
  };
}
