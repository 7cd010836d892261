import type { Logger } from '../../subgraphs/mesh/logger.js';
import { IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import { sampledOut } from '../../subgraphs/mesh/request-spans.js';
import type { SupergraphSubgraph } from '../supergraph/supergraph.js';

export interface SubgraphStatus {
  name: string;
  url: string;
  reachable: boolean | null;
  /** Whether /ready waits for it. */
  required: boolean;
  checkedAt: string | null;
  error?: string;
}

/**
 * Readiness for load balancers: the gateway is ready once its supergraph is loaded and while every
 * required subgraph answers. Subgraphs are probed in the background (the GraphQL `{ __typename }`
 * Apollo's health check sends, with the gateway's signed identity, as every subgraph fetch), so
 * /ready answers from memory and never waits on a subgraph.
 */
export class Readiness {
  private statuses = new Map<string, SubgraphStatus>();
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;

  constructor(
    private subgraphs: readonly SupergraphSubgraph[],
    private readonly required: readonly string[],
    private readonly identityHeader: () => Promise<string>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    this.reset(subgraphs);
  }

  /** A new supergraph: its subgraphs, probed from scratch. */
  reset(subgraphs: readonly SupergraphSubgraph[]): void {
    this.subgraphs = subgraphs;
    const all = this.required.includes('*');
    this.statuses = new Map(subgraphs.map((s) => [s.name, { name: s.name, url: s.url, reachable: null, required: all || this.required.includes(s.name), checkedAt: null }]));
    void this.probe();
  }

  start(): void {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get ready(): boolean {
    return [...this.statuses.values()].every((s) => !s.required || s.reachable === true);
  }

  report(): SubgraphStatus[] {
    return [...this.statuses.values()];
  }

  /** Probes every subgraph once (concurrent calls share one round). */
  probe(): Promise<void> {
    this.probing ??= this.round().finally(() => (this.probing = null));
    return this.probing;
  }

  private async round(): Promise<void> {
    const header = await this.identityHeader();
    await Promise.all(
      this.subgraphs.map(async (s) => {
        let reachable = false;
        let error: string | undefined;
        try {
          const response = await fetch(s.url, {
            method: 'POST',
            // Not a trace of its own in the subgraph (when tracing is on): probes are not requests.
            headers: sampledOut({ 'content-type': 'application/json', [IDENTITY_HEADER]: header }),
            body: '{"query":"query __ApolloServiceHealthCheck__ { __typename }"}',
            // A probe may take up to 5 s on a busy machine before it counts as unreachable.
            signal: AbortSignal.timeout(5_000),
          });
          reachable = response.ok;
          if (!reachable) error = `HTTP ${response.status}`;
          await response.body?.cancel();
        } catch (e) {
          error = (e as Error).message;
        }
        const before = this.statuses.get(s.name);
        if (!before) return;
        if (before.reachable !== null && before.reachable !== reachable) this.log[reachable ? 'info' : 'warn']('subgraph reachability changed', { subgraph: s.name, reachable, error });
        const { error: _previous, ...rest } = before;
        this.statuses.set(s.name, { ...rest, reachable, checkedAt: new Date().toISOString(), ...(error ? { error } : {}) });
      }),
    );
  }
}
