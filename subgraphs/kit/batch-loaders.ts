import DataLoader from 'dataloader';

/**
 * DataLoader shapes every domain needs. A batch function receives all the keys asked for in one
 * tick and must make ONE query for them; these helpers put the rows back in key order.
 */

/** One row per key (entity lookups, reference resolvers). Missing keys resolve to null. */
export function loaderByKey<K, V>(
  fetch: (keys: readonly K[]) => Promise<readonly V[]> | readonly V[],
  keyOf: (row: V) => K,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map<K, V>();
    for (const row of rows) byKey.set(keyOf(row), row);
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

/** Many rows per key (relationships: a customer's orders, an order's lines). */
export function loaderOfLists<K, V>(
  fetch: (keys: readonly K[]) => Promise<readonly V[]> | readonly V[],
  keyOf: (row: V) => K,
): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map<K, V[]>();
    for (const row of rows) {
      const key = keyOf(row);
      const list = byKey.get(key);
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
    return keys.map((key) => byKey.get(key) ?? []);
  });
}

/**
 * One loader per distinct argument set (e.g. `orders(first: 5)` and `orders(first: 20)` cannot
 * share a batch because their SQL differs), created lazily within the request.
 */
export function loaderPerArguments<A, L>(create: (args: A) => L): (args: A) => L {
  const loaders = new Map<string, L>();
  return (args: A) => {
    const key = JSON.stringify(args);
    let loader = loaders.get(key);
    if (!loader) {
      loader = create(args);
      loaders.set(key, loader);
    }
    return loader;
  };
}

/** GraphQL IDs are strings; our tables use integer keys. Anything else matches nothing. */
export const toKey = (id: string | number): number => {
  const n = typeof id === 'number' ? id : Number(id);
  return Number.isSafeInteger(n) ? n : -1;
};

/** A list argument such as `first`: the default when absent, never negative, never above the cap. */
export const pageSize = (requested: number | null | undefined, fallback: number, max: number): number =>
  Math.max(0, Math.min(requested ?? fallback, max));
