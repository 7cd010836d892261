import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Kind, parse, type DocumentNode, type SelectionSetNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { HttpError } from '../../subgraphs/mesh/http.js';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { ConfigError } from '../config/config-error.js';
import type { GatewaySettings } from '../config/gateway-settings.js';
import { nestingExceeds } from '../limits/parser-limits.js';
import type { ApqStore } from './apq-store.js';
import { loadManifests, type ManifestOperation } from './manifest.js';
import type { FetchedManifest } from './manifest-url.js';
import { normalizeDocument, tokenCount } from './normalize.js';

/** The fields of a GraphQL request this layer reads and may rewrite (a POST body, or GET's parameters). */
export interface DocumentRequest {
  query?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

/**
 * Trusted documents, with Apollo Router's modes (`persisted_queries`) and codes, and automatic
 * persisted queries (`apq`). Runs at the HTTP edge, before the request limits and before anything
 * parses the document:
 *
 * - an id (`extensions.persistedQuery.sha256Hash`) from a manifest becomes its body; an id in no
 *   manifest is a 404 `PERSISTED_QUERY_NOT_IN_LIST` (with APQ on, it is APQ's to resolve);
 * - `log_unknown`: a body that is in no manifest is logged;
 * - `safelist.enabled`: such a body is refused, 403 `QUERY_NOT_IN_SAFELIST` (compared on tokens,
 *   ignoring whitespace, commas, comments and the order of definitions, as Router does);
 *   introspection-only documents pass when introspection is on (Router's exception);
 * - `safelist.require_id`: every request must send an id, 400 `PERSISTED_QUERY_ID_REQUIRED`.
 *
 * APQ: an id with a body registers it (Apollo Server does, once the operation validated); an id
 * alone is read from the APQ cache here. APQ off and an id that no manifest knows: 400
 * `PERSISTED_QUERY_NOT_SUPPORTED`.
 */
export class TrustedDocuments {
  private readonly manifest: Map<string, ManifestOperation>;
  private readonly safelist = new Set<string>();
  /** No body longer than the longest manifest body (in tokens) can be in the safelist. */
  private readonly maxTokens: number;
  private readonly verdicts = new LRUCache<string, boolean>({ max: 5_000, maxSize: 32 * 1024 * 1024, sizeCalculation: (_, key) => key.length + 1 });
  private readonly pq: GatewaySettings['persisted_queries'];
  /** Introspection-only documents pass the safelist while introspection is on (Router's exception). */
  private readonly introspection: boolean;
  private readonly parserMaxRecursion: number;
  private readonly parserMaxTokens: number | undefined;

  constructor(
    settings: Pick<GatewaySettings, 'persisted_queries' | 'apq' | 'supergraph' | 'limits'>,
    private readonly apq: ApqStore | null,
    private readonly log: Logger,
    /** The manifests of persisted_queries.manifest_urls, fetched before (fetchManifests). */
    fetched: readonly FetchedManifest[] = [],
  ) {
    checkSettings(settings);
    this.pq = settings.persisted_queries;
    this.manifest = this.pq.enabled ? loadManifests(this.pq.local_manifests, fetched) : new Map();
    let maxTokens = 0;
    for (const operation of this.manifest.values()) {
      this.safelist.add(normalizeDocument(operation.body)!);
      maxTokens = Math.max(maxTokens, tokenCount(operation.body));
    }
    this.maxTokens = maxTokens;
    this.introspection = settings.supergraph.introspection !== false;
    this.parserMaxRecursion = settings.limits.parser_max_recursion || 500;
    this.parserMaxTokens = settings.limits.parser_max_tokens || undefined;
    if (this.pq.enabled) log.info('trusted documents loaded', { operations: this.manifest.size, safelist: this.pq.safelist.enabled, requireId: this.pq.safelist.require_id });
  }

  get size(): number {
    return this.manifest.size;
  }

  /**
   * Resolves a request in place: an id becomes `query` (and `persistedQuery` leaves `extensions`),
   * a body the modes refuse throws a coded HttpError. Returns true when the request's text changed.
   */
  resolve(request: DocumentRequest): boolean {
    let resolved = false;
    const extensions = request.extensions;
    const persisted = isRecord(extensions) ? extensions.persistedQuery : undefined;
    if (persisted !== undefined) {
      const id = persistedQueryId(persisted);
      const hasBody = typeof request.query === 'string' && request.query !== '';
      const operation = this.pq.enabled ? this.manifest.get(id) : undefined;
      if (operation && (!hasBody || this.sameDocument(request.query as string, operation.body))) {
        return replaceQuery(request, operation.body);
      }
      if (this.pq.enabled && !this.apq) {
        if (hasBody) throw new HttpError(400, 'CANNOT_SEND_PQ_ID_AND_BODY', 'Sending a persisted query ID and a body in the same request is disallowed');
        throw new HttpError(404, 'PERSISTED_QUERY_NOT_IN_LIST', `Persisted query '${id}' not found in the persisted query list`);
      }
      if (!this.apq) throw new HttpError(400, 'PERSISTED_QUERY_NOT_SUPPORTED', 'PersistedQueryNotSupported: automatic persisted queries are off (apq.enabled)');
      if (hasBody) {
        // Apollo Server checks this too, but answers without a code.
        if (createHash('sha256').update(request.query as string).digest('hex') !== id) throw new HttpError(400, 'BAD_REQUEST', 'provided sha does not match query');
      } else {
        const query = this.apq.lookup(id);
        // Unknown: Apollo Server answers PERSISTED_QUERY_NOT_FOUND (HTTP 200), and the client sends the body.
        if (query === undefined) return false;
        resolved = replaceQuery(request, query);
      }
    }
    if (this.pq.enabled) this.checkFreeform(request.query, request.operationName);
    return resolved;
  }

  /** Resolves GET parameters (`query`, `extensions` as JSON), rewriting the request's URL when they change. */
  resolveSearch(req: IncomingMessage, params: URLSearchParams): boolean {
    const extensionsText = params.get('extensions');
    if (extensionsText === null && !this.pq.enabled) return false;
    let extensions: unknown;
    if (extensionsText !== null) {
      try {
        extensions = JSON.parse(extensionsText);
      } catch {
        throw new HttpError(400, 'BAD_REQUEST', 'The `extensions` query parameter is not valid JSON');
      }
    }
    const request: DocumentRequest = { query: params.get('query') ?? undefined, operationName: params.get('operationName') ?? undefined, extensions };
    if (!this.resolve(request)) return false;
    params.set('query', request.query as string);
    if (isRecord(request.extensions) && Object.keys(request.extensions).length > 0) params.set('extensions', JSON.stringify(request.extensions));
    else params.delete('extensions');
    req.url = `${(req.url ?? '/').split('?')[0]}?${params.toString()}`;
    return true;
  }

  /** A body sent without an id (or found in the APQ cache): what log_unknown and the safelist say. */
  private checkFreeform(query: unknown, operationName: unknown): void {
    const { safelist, log_unknown: logUnknown } = this.pq;
    if (safelist.enabled && safelist.require_id) {
      if (logUnknown && typeof query === 'string') this.logUnknown(query, operationName);
      throw new HttpError(400, 'PERSISTED_QUERY_ID_REQUIRED', 'This endpoint does not allow freeform GraphQL requests; operations must be sent by ID in the persisted queries GraphQL extension.');
    }
    if (typeof query !== 'string' || query === '') return; // Apollo Server answers a request without a document.
    if (!safelist.enabled && !logUnknown) return;
    if (this.inSafelist(query)) return;
    if (safelist.enabled && this.introspection && this.introspectionOnly(query)) return;
    if (logUnknown) this.logUnknown(query, operationName);
    if (safelist.enabled) throw new HttpError(403, 'QUERY_NOT_IN_SAFELIST', 'The operation body was not found in the persisted query safelist');
  }

  private inSafelist(query: string): boolean {
    let verdict = this.verdicts.get(query);
    if (verdict === undefined) {
      const normalized = normalizeDocument(query, this.maxTokens);
      verdict = normalized !== null && this.safelist.has(normalized);
      this.verdicts.set(query, verdict);
    }
    return verdict;
  }

  private sameDocument(query: string, body: string): boolean {
    return query === body || normalizeDocument(query, this.maxTokens) === normalizeDocument(body);
  }

  /**
   * Every operation selects only `__schema`, `__type` or `__typename` at its root (through
   * fragments). Parsing is bounded here as the request limits bound it: nesting first (graphql-js
   * parses recursively), then the token count.
   */
  private introspectionOnly(query: string): boolean {
    if (nestingExceeds(query, this.parserMaxRecursion)) return false;
    let document: DocumentNode;
    try {
      document = parse(query, { noLocation: true, maxTokens: this.parserMaxTokens });
    } catch {
      return false;
    }
    const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
    const seen = new Set<SelectionSetNode>();
    const onlyMeta = (set: SelectionSetNode): boolean => {
      if (seen.has(set)) return true;
      seen.add(set);
      return set.selections.every((s) => {
        if (s.kind === Kind.FIELD) return s.name.value === '__schema' || s.name.value === '__type' || s.name.value === '__typename';
        if (s.kind === Kind.INLINE_FRAGMENT) return onlyMeta(s.selectionSet);
        const fragment = fragments.get(s.name.value);
        return fragment !== undefined && onlyMeta(fragment);
      });
    };
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    return operations.length > 0 && operations.every((o) => o.kind === Kind.OPERATION_DEFINITION && o.operation === 'query' && onlyMeta(o.selectionSet));
  }

  private logUnknown(query: string, operationName: unknown): void {
    this.log.warn('unknown operation (not in the persisted query manifests)', {
      operationName: typeof operationName === 'string' ? operationName : null,
      sha256: createHash('sha256').update(query).digest('hex'),
      body: query.length > 2_000 ? `${query.slice(0, 2_000)}…` : query,
    });
  }
}

/** The id a `persistedQuery` extension names; a malformed extension is a coded 400. */
function persistedQueryId(persisted: unknown): string {
  if (!isRecord(persisted)) throw new HttpError(400, 'BAD_REQUEST', '`extensions.persistedQuery` must be an object with version and sha256Hash');
  if (persisted.version !== 1) throw new HttpError(400, 'BAD_REQUEST', 'Unsupported persisted query version (only version 1 is)');
  const id = persisted.sha256Hash;
  if (typeof id !== 'string' || id === '') throw new HttpError(400, 'BAD_REQUEST', '`extensions.persistedQuery.sha256Hash` must be a non-empty string');
  return id;
}

/** Puts `query` on the request and takes `persistedQuery` out of its extensions. */
function replaceQuery(request: DocumentRequest, query: string): true {
  request.query = query;
  if (isRecord(request.extensions)) {
    const { persistedQuery: _, ...rest } = request.extensions;
    request.extensions = rest;
  }
  return true;
}

/** Router's combinations: what it refuses at start, refused here at start too. */
function checkSettings(settings: Pick<GatewaySettings, 'persisted_queries' | 'apq'>): void {
  const pq = settings.persisted_queries;
  const file = 'gateway settings';
  if (pq.safelist.require_id && !pq.safelist.enabled) throw new ConfigError(file, 'persisted_queries.safelist.require_id', 'needs persisted_queries.safelist.enabled: true');
  if ((pq.safelist.enabled || pq.log_unknown) && !pq.enabled) {
    throw new ConfigError(file, pq.safelist.enabled ? 'persisted_queries.safelist.enabled' : 'persisted_queries.log_unknown', 'needs persisted_queries.enabled: true');
  }
  if (pq.enabled && pq.local_manifests.length === 0 && !pq.manifest_urls?.length) {
    throw new ConfigError(file, 'persisted_queries.local_manifests', 'persisted queries need at least one manifest file (or manifest_urls)');
  }
  // APQ lets any client add operations: it cannot be combined with a safelist (Router: the same).
  if (pq.safelist.enabled && settings.apq.enabled) throw new ConfigError(file, 'apq.enabled', 'must be false when persisted_queries.safelist is enabled');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
