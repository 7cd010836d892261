import type { DocumentNode, GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { shapeOperation, type OperationShape } from './operation-shape.js';

/**
 * One operation of one document, resolved against the supergraph once, with whatever each layer
 * derives from it (authorization's analysis, limits, cost, lineage) computed on first use and
 * kept alongside: a request for a known operation repeats none of that work.
 */
export class PreparedOperation {
  private readonly derived = new Map<symbol, unknown>();

  constructor(
    readonly shape: OperationShape,
    /** Apollo's hash of the query text: the key of this operation. */
    readonly queryHash: string,
    /** Characters of the query text: what the cache's size bound counts. */
    readonly textLength: number,
  ) {}

  derive<T>(key: symbol, make: (shape: OperationShape) => T): T {
    if (this.derived.has(key)) return this.derived.get(key) as T;
    const value = make(this.shape);
    this.derived.set(key, value);
    return value;
  }
}

/**
 * Prepared operations by (query hash, operation name), bounded (LRU) by count and by the total size
 * of their documents (what each layer derives grows with the document): distinct bodies, large or
 * many, cannot grow it.
 */
export class OperationCache {
  private readonly cache: LRUCache<string, PreparedOperation>;

  constructor(
    readonly schema: GraphQLSchema,
    max = 2_000,
    /** Characters of query text, summed over the cached operations. */
    maxSize = 2_000_000,
  ) {
    this.cache = new LRUCache({ max, maxSize, sizeCalculation: (op) => Math.max(1, op.textLength) });
  }

  /** Throws an OperationError (a coded 400) when the document has no such operation. */
  get(document: DocumentNode, queryHash: string, operationName: string | null | undefined, textLength = 1_000): PreparedOperation {
    const key = `${queryHash}\u0000${operationName ?? ''}`;
    let prepared = this.cache.get(key);
    if (!prepared) {
      prepared = new PreparedOperation(shapeOperation(this.schema, document, operationName), queryHash, textLength);
      this.cache.set(key, prepared);
    }
    return prepared;
  }

  get size(): number {
    return this.cache.size;
  }
}
