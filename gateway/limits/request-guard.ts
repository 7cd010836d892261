import { createHash } from 'node:crypto';
import { GraphQLError, Kind, parse, print, type DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { HttpError } from '../../subgraphs/mesh/http.js';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import type { GatewaySettings } from '../config/gateway-settings.js';
import type { OperationCache } from '../operation/operation-cache.js';
import { limitViolations, measureOperation } from './operation-limits.js';
import { nestingExceeds } from './parser-limits.js';

const MEASURES = Symbol('operation measures');

/** What the guard learns of a query text once (cached with its verdict); in-flight sharing keys on it. */
export interface DocumentFacts {
  /** Hash of the parsed document, printed: the same for texts that differ only in whitespace, commas or comments. */
  documentKey: string;
  /** Every operation the document defines is a query: nothing in it can write or stream a subscription. */
  readOnly: boolean;
}

/**
 * Apollo Router's parser and operation limits, applied to the query text before Apollo Server
 * parses and validates it: graphql-js validation compares selections pairwise, so what the limits
 * refuse must be refused before it runs, or one request could still hold the event loop for a
 * second. The verdict is cached per (operation name, query text) in a bounded LRU; a query seen
 * before costs one lookup. The operation's shape built here is left in the operation cache for the
 * layers after validation, and the document's facts (its canonical hash, whether it only reads) are
 * what in-flight sharing keys on, so a request seen before is never parsed again at the edge.
 */
export class RequestGuard {
  private readonly verdicts = new LRUCache<string, HttpError | DocumentFacts | true>({
    max: 5_000,
    // Keys are query texts: bound their total size too, not just their count.
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (_, key) => key.length + 1,
  });

  constructor(
    private readonly limits: GatewaySettings['limits'],
    private readonly operations: () => OperationCache,
    private readonly log: Logger,
  ) {}

  /**
   * Throws a coded 400 (HttpError) when the query is over a limit; otherwise returns the document's
   * facts (undefined when there is no document to read or its operation does not resolve).
   */
  check(query: unknown, operationName: unknown): DocumentFacts | undefined {
    if (typeof query !== 'string' || query === '') return undefined; // Apollo answers malformed requests itself.
    const name = typeof operationName === 'string' ? operationName : null;
    const key = `${name ?? ''}\u0000${query}`;
    let verdict = this.verdicts.get(key);
    if (verdict === undefined) {
      verdict = this.judge(query, name);
      this.verdicts.set(key, verdict);
    }
    if (verdict instanceof HttpError) throw verdict;
    return verdict === true ? undefined : verdict;
  }

  private judge(query: string, operationName: string | null): HttpError | DocumentFacts | true {
    const limits = this.limits;
    if (limits.parser_max_recursion > 0 && nestingExceeds(query, limits.parser_max_recursion)) {
      return new HttpError(400, 'GRAPHQL_PARSE_FAILED', `Syntax Error: the document nests more than ${limits.parser_max_recursion} levels (parser_max_recursion).`);
    }
    let document: DocumentNode;
    try {
      // No locations: this document stays in the operation cache, and with them (a Token and a
      // Location object per token) it took ~3x the memory; our layers never read them.
      document = parse(query, { noLocation: true, maxTokens: limits.parser_max_tokens > 0 ? limits.parser_max_tokens : undefined });
    } catch (error) {
      if (error instanceof GraphQLError) return new HttpError(400, 'GRAPHQL_PARSE_FAILED', error.message);
      throw error;
    }
    let measures;
    try {
      // Apollo's query hash (sha256 of the text), so the layers after validation find this shape.
      const queryHash = createHash('sha256').update(query).digest('hex');
      measures = this.operations().get(document, queryHash, operationName, query.length).derive(MEASURES, measureOperation);
    } catch (error) {
      // No such operation, or a fragment cycle: Apollo's validation and resolution answer those.
      if (error instanceof GraphQLError) return true;
      throw error;
    }
    const violations = limitViolations(measures, limits);
    if (violations.length === 0) return factsOf(document);
    if (limits.warn_only) {
      this.log.warn('operation over limits (warn_only)', { operation: operationName, limits: violations.map((v) => `${v.code} ${v.measured}/${v.limit}`) });
      return factsOf(document);
    }
    const first = violations[0]!;
    return new HttpError(400, first.code, first.message);
  }
}

/** Printing the parsed document drops whitespace, commas and comments: one linear pass, once per text. */
function factsOf(document: DocumentNode): DocumentFacts {
  return {
    documentKey: createHash('sha256').update(print(document)).digest('base64'),
    readOnly: document.definitions.every((d) => d.kind !== Kind.OPERATION_DEFINITION || d.operation === 'query'),
  };
}
