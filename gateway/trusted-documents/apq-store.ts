import { LRUCache } from 'lru-cache';

/**
 * The automatic persisted queries (APQ) cache: query texts by the sha256 of their text, bounded by
 * count and total size, in memory. Apollo Server registers an operation here (its `persistedQueries`
 * option, after the operation validated); the gateway's edge reads it, so that a request sent by
 * hash carries its text before the request limits and the trusted-document checks look at it.
 *
 * Apollo Server prefixes the keys it uses (`apq:` + hash, its APQ_CACHE_PREFIX); `lookup` reads
 * them the same way. A test registers through Apollo and reads back through the edge.
 */
export class ApqStore {
  static readonly APOLLO_PREFIX = 'apq:';
  private readonly cache = new LRUCache<string, string>({
    max: 10_000,
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (value, key) => value.length + key.length + 1,
  });

  /** The query registered for `hash`, if any. */
  lookup(hash: string): string | undefined {
    return this.cache.get(ApqStore.APOLLO_PREFIX + hash);
  }

  // Apollo's KeyValueCache interface (@apollo/utils.keyvaluecache).
  async get(key: string): Promise<string | undefined> {
    return this.cache.get(key);
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const ttl = options?.ttl;
    this.cache.set(key, value, ttl ? { ttl: ttl * 1000 } : undefined);
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(key);
  }

  get size(): number {
    return this.cache.size;
  }
}
