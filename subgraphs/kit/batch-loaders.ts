import { SpanStatusCode, trace } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import { errorType } from '../mesh/request-spans.js';
import { checkedFirst } from './paging.js';
import type { RequestBudget } from './request-budget.js';

/**
 * DataLoader shapes every domain needs. A batch function receives all the keys asked for in one
 * tick and must make ONE query for them; these helpers put the rows back in key order.
 *
 * Loaders made for a request (inside `loadersForRequest`, which the kit wraps around a domain's
 * `loaders()`) answer to its budget: a batch of a stopped request fails without touching the
 * database, and while the request's fields wait for their turn (see RequestBudget) a batch waits
 * for all of them, so pausing never splits a batch.
 */
let request: RequestBudget | null = null;

/** Runs `make` (a domain's `loaders(repo, identity)`) so that the loaders it makes belong to `budget`'s request. */
export function loadersForRequest<T>(budget: RequestBudget, make: () => T): T {
  const outer = request;
  request = budget;
  try {
    return make();
  } finally {
    request = outer;
  }
}

function options<K, V>(): DataLoader.Options<K, V> {
  // The promise per key is kept by OnceLoader (below), not by DataLoader's cache.
  return request ? { cache: false, batchScheduleFn: request.scheduleBatch } : { cache: false };
}

/**
 * A DataLoader that hands out one promise per key for the whole request. DataLoader's own cache
 * answers a repeated key in its next batch, so every repeat asked while fields wait for their
 * turn would settle at once; here a repeat gets the key's promise itself, settled or not.
 */
class OnceLoader<K, V> extends DataLoader<K, V> {
  private readonly promises = new Map<K, Promise<V>>();

  override load(key: K): Promise<V> {
    let promise = this.promises.get(key);
    if (!promise) {
      promise = super.load(key);
      this.promises.set(key, promise);
    }
    return promise;
  }
}

/**
 * The batch function, checking first that its request is still wanted; in a `dataloader.batch`
 * span (with the number of keys) when tracing records, so its SQL statements are the span's children.
 */
function checked<K, V>(budget: RequestBudget | null, fetch: (keys: readonly K[]) => Promise<readonly V[]> | readonly V[]) {
  return (keys: readonly K[]) => {
    budget?.check();
    budget?.onBatch?.(keys.length);
    if (!trace.getActiveSpan()?.isRecording()) return fetch(keys);
    return tracer.startActiveSpan('dataloader.batch', { attributes: { 'dataloader.batch.size': keys.length } }, async (span) => {
      try {
        const rows = await fetch(keys);
        span.setAttribute('dataloader.batch.rows', rows.length);
        return rows;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(error));
        throw error;
      } finally {
        span.end();
      }
    });
  };
}

const tracer = trace.getTracer('data-mesh/kit');

/** One row per key (entity lookups, reference resolvers). Missing keys resolve to null. */
export function loaderByKey<K, V>(
  fetchRows: (keys: readonly K[]) => Promise<readonly V[]> | readonly V[],
  keyOf: (row: V) => K,
): DataLoader<K, V | null> {
  const fetch = checked(request, fetchRows);
  return new OnceLoader<K, V | null>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map<K, V>();
    for (const row of rows) byKey.set(keyOf(row), row);
    return keys.map((key) => byKey.get(key) ?? null);
  }, options());
}

/** Many rows per key (relationships: a customer's orders, an order's lines). */
export function loaderOfLists<K, V>(
  fetchRows: (keys: readonly K[]) => Promise<readonly V[]> | readonly V[],
  keyOf: (row: V) => K,
): DataLoader<K, V[]> {
  const fetch = checked(request, fetchRows);
  return new OnceLoader<K, V[]>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map<K, V[]>();
    for (const row of rows) {
      const key = keyOf(row);
      const list = byKey.get(key);
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
    return keys.map((key) => byKey.get(key) ?? []);
  }, options());
}

/**
 * One loader per distinct argument set (e.g. `orders(first: 5)` and `orders(first: 20)` cannot
 * share a batch because their SQL differs), created lazily within the request.
 */
export function loaderPerArguments<A, L>(create: (args: A) => L): (args: A) => L {
  const loaders = new Map<string, L>();
  // Made later, during execution: they belong to the request this was made for.
  const owner = request;
  return (args: A) => {
    const key = JSON.stringify(args);
    let loader = loaders.get(key);
    if (!loader) {
      loader = owner ? loadersForRequest(owner, () => create(args)) : create(args);
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

/**
 * A list argument such as `first`: the default when absent or null; negative or above the cap is a
 * BAD_USER_INPUT error (subgraphs/kit/paging.ts), never a silently shorter list.
 */
export const pageSize = (requested: number | null | undefined, fallback: number, max: number, argumentName = 'first'): number =>
  checkedFirst(requested, fallback, max, argumentName);
