import { fileURLToPath } from 'node:url';
import { loaderByKey, loaderOfLists, loaderPerArguments, pageSize, toKey } from '../kit/batch-loaders.js';
import { defineDomain, type DomainContext } from '../kit/domain.js';
import { checkedAfterId, keyset, type Page, type PageArgs } from '../kit/paging.js';
import { MIGRATION, sqliteProductsRepository, type CategoryRecord, type ProductRecord, type ProductsRepository } from './repository.js';
import { seedProducts } from './seed.js';

const MAX_PAGE = 500;
const page = (first: number | undefined) => pageSize(first, 20, MAX_PAGE);
const byId = (name: string) => keyset({ name, kinds: ['int'], keyOf: (p: ProductRecord) => [p.id], defaultFirst: 20, maxFirst: MAX_PAGE });
const PRODUCTS = byId('Query.productsConnection');
const CATEGORY_PRODUCTS = byId('Category.productsConnection');

const loaders = (repo: ProductsRepository) => ({
  product: loaderByKey((ids: readonly number[]) => repo.byIds(ids), (p) => p.id),
  category: loaderByKey((ids: readonly number[]) => repo.categoriesByIds(ids), (c) => c.id),
  productsOfCategory: loaderPerArguments((first: number) =>
    loaderOfLists((ids: readonly number[]) => repo.byCategories(ids, first), (p) => p.category_id),
  ),
  productPagesOfCategory: loaderPerArguments((page: Page) =>
    loaderOfLists((ids: readonly number[]) => repo.pagesOfCategories(ids, page), (p) => p.category_id),
  ),
});

type Context = DomainContext<ProductsRepository, ReturnType<typeof loaders>>;

export default defineDomain({
  name: 'products',
  description: 'Product catalog: SKUs, names, categories, prices, attributes',
  schemaPath: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  schemaVersion: 1,
  migrate: (db) => db.exec(MIGRATION),
  seed: seedProducts,
  repository: sqliteProductsRepository,
  loaders,
  resolvers: {
    Query: {
      product: async (_: unknown, args: { id?: string; sku?: string }, ctx: Context) => {
        if (args.id != null) return ctx.loaders.product.load(toKey(args.id));
        if (args.sku != null) return (await ctx.repo.bySku(args.sku)) ?? null;
        return null;
      },
      products: (_: unknown, args: { first?: number; after?: string; categoryId?: string }, ctx: Context) =>
        ctx.repo.list({
          first: page(args.first),
          after: checkedAfterId(args.after),
          categoryId: args.categoryId ? toKey(args.categoryId) : null,
        }),
      productsConnection: async (_: unknown, args: PageArgs & { categoryId?: string | null }, ctx: Context) => {
        const page = PRODUCTS.page(args);
        const rows = await ctx.repo.list({ first: page.limit, after: Number(page.after[0] ?? 0), categoryId: args.categoryId ? toKey(args.categoryId) : null });
        return PRODUCTS.connection(rows, page);
      },
      categories: (_: unknown, __: unknown, ctx: Context) => ctx.repo.categories(),
    },
    Product: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.product.load(toKey(ref.id)),
      category: (p: ProductRecord, _: unknown, ctx: Context) => ctx.loaders.category.load(p.category_id),
      attributes: (p: ProductRecord) => JSON.parse(p.attributes),
      launchedOn: (p: ProductRecord) => p.launched_on,
    },
    Category: {
      products: (c: CategoryRecord, args: { first?: number }, ctx: Context) =>
        ctx.loaders.productsOfCategory(page(args.first)).load(c.id),
      productsConnection: async (c: CategoryRecord, args: PageArgs, ctx: Context) => {
        const request = CATEGORY_PRODUCTS.page(args);
        return CATEGORY_PRODUCTS.connection(await ctx.loaders.productPagesOfCategory(request).load(c.id), request);
      },
    },
  },
});
