import { endpointOf, type DataProductsDocument } from '../../subgraphs/mesh/data-products/protocol.js';
import { IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import type { SourceStatus } from './catalog-model.js';

export interface CatalogSourceOptions {
  /** A catalog query older than this refreshes first (ms). Default 5 000. */
  maxAgeMs?: number;
  /** Background refresh, so response extensions follow descriptor changes (ms; 0 = never). Default 30 000. */
  refreshIntervalMs?: number;
  /** Per subgraph fetch (ms). Default 3 000. */
  timeoutMs?: number;
}

/**
 * Reads every subgraph's `GET /data-products` (descriptors plus its latest quality run), signed
 * like any gateway request: subgraphs answer only the gateway. A subgraph that cannot be reached
 * keeps its last known answer and is reported as unreachable.
 */
export class CatalogSource {
  private readonly documents = new Map<string, DataProductsDocument>();
  private readonly status = new Map<string, SourceStatus>();
  private inflight: Promise<boolean> | null = null;
  private fetchedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastBody = new Map<string, string>();

  private readonly subgraphs: readonly { name: string; url: string }[];

  /**
   * Only governed subgraphs are asked: those that resolve classified fields follow the mesh's
   * governance spec (and serve /data-products); any other subgraph is left alone.
   */
  constructor(
    private readonly all: readonly { name: string; url: string }[],
    governed: ReadonlySet<string>,
    private readonly identityHeader: () => Promise<string>,
    private readonly options: CatalogSourceOptions,
    private readonly onChange: () => void,
  ) {
    this.subgraphs = all.filter((s) => governed.has(s.name));
    for (const s of all) {
      this.status.set(
        s.name,
        governed.has(s.name)
          ? { subgraph: s.name, url: endpointOf(s.url), governed: true, reachable: false, products: 0, fetchedAt: null, error: 'not fetched yet' }
          : { subgraph: s.name, url: endpointOf(s.url), governed: false, reachable: null, products: 0, fetchedAt: null, error: 'classifies no field (does not follow the governance spec): not asked' },
      );
    }
  }

  start() {
    const every = this.options.refreshIntervalMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.refresh(), every);
      this.timer.unref();
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
  }

  get docs(): DataProductsDocument[] {
    return this.subgraphs.map((s) => this.documents.get(s.name)).filter((d): d is DataProductsDocument => d !== undefined);
  }

  get sources(): SourceStatus[] {
    return this.all.map((s) => this.status.get(s.name)!);
  }

  /** Refreshes when the last fetch is older than maxAgeMs. */
  async fresh(): Promise<void> {
    if (Date.now() - this.fetchedAt >= (this.options.maxAgeMs ?? 5_000)) await this.refresh();
  }

  /** Fetches every subgraph (one fetch at a time in flight); calls onChange when anything changed. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.fetchAll().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchAll(): Promise<boolean> {
    const header = await this.identityHeader();
    const changed = await Promise.all(this.subgraphs.map((s) => this.fetchOne(s, header)));
    this.fetchedAt = Date.now();
    const any = changed.some(Boolean);
    if (any) this.onChange();
    return any;
  }

  private async fetchOne(subgraph: { name: string; url: string }, header: string): Promise<boolean> {
    const url = endpointOf(subgraph.url);
    const previous = this.status.get(subgraph.name)!;
    try {
      const response = await fetch(url, { headers: { [IDENTITY_HEADER]: header, accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 3_000) });
      // A subgraph that is not built on our kit has no catalog endpoint: it simply declares nothing.
      if (response.status === 404) {
        const changed = this.documents.delete(subgraph.name) || previous.error !== null;
        this.status.set(subgraph.name, { ...previous, reachable: true, products: 0, fetchedAt: new Date().toISOString(), error: null });
        return changed;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.text();
      const doc = JSON.parse(body) as DataProductsDocument;
      if (!Array.isArray(doc.dataProducts)) throw new Error('not a data products document');
      doc.subgraph = subgraph.name;
      const changed = this.lastBody.get(subgraph.name) !== body || !previous.reachable;
      this.lastBody.set(subgraph.name, body);
      this.documents.set(subgraph.name, doc);
      this.status.set(subgraph.name, { ...previous, reachable: true, products: doc.dataProducts.length, fetchedAt: new Date().toISOString(), error: null });
      return changed;
    } catch (error) {
      const reason = error instanceof Error ? (error.name === 'TimeoutError' ? 'timed out' : error.message) : String(error);
      this.status.set(subgraph.name, { ...previous, reachable: false, error: reason });
      return previous.reachable === true;
    }
  }
}
