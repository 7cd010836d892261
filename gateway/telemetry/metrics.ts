import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; from a fast cache hit to a subgraph at its timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The gateway's Prometheus metrics (prom-client), one registry per gateway. Label values are
 * bounded: subgraph names and schema coordinates come from the supergraph; operation names from
 * clients, so only the first `MAX_OPERATION_NAMES` distinct ones get their own label, the rest
 * count as `other` — no subject, no raw operation text, ever.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();

  readonly requests = new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL requests by operation name and outcome (ok, errors, refused: 4xx, failed: 5xx)',
    labelNames: ['operation_name', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'Time from the request arriving to the response sent, by operation name and outcome',
    labelNames: ['operation_name', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly subgraphFetchDuration = new Histogram({
    name: 'subgraph_fetch_duration_seconds',
    help: 'Gateway to subgraph fetches, by subgraph and outcome (ok, error, timeout, cancelled)',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly subgraphFetchErrors = new Counter({
    name: 'subgraph_fetch_errors_total',
    help: 'Failed subgraph fetches by subgraph and code (SUBGRAPH_UNAVAILABLE, GATEWAY_TIMEOUT, …)',
    labelNames: ['subgraph', 'code'] as const,
    registers: [this.registry],
  });
  readonly authorizationDenials = new Counter({
    name: 'authorization_denials_total',
    help: 'Fields and types removed (or refused) by authorization, by schema coordinate and reason',
    labelNames: ['coordinate', 'reason'] as const,
    registers: [this.registry],
  });
  readonly estimatedCost = new Histogram({
    name: 'demand_control_estimated_cost',
    help: 'Estimated cost of operations (demand control, static_estimated)',
    buckets: [1, 10, 100, 1_000, 10_000, 50_000, 100_000, 1_000_000],
    registers: [this.registry],
  });
  readonly costRejections = new Counter({
    name: 'demand_control_rejections_total',
    help: 'Operations refused by demand control (COST_ESTIMATED_TOO_EXPENSIVE)',
    registers: [this.registry],
  });
  readonly limitRejections = new Counter({
    name: 'request_limit_rejections_total',
    help: 'Requests refused by a request limit, by code (MAX_DEPTH_LIMIT, GRAPHQL_PARSE_FAILED, …)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly sharedExecutions = new Counter({
    name: 'inflight_shared_requests_total',
    help: 'Requests answered by sharing an identical execution already in flight',
    registers: [this.registry],
  });
  readonly cacheEntries = new Gauge({
    name: 'gateway_cache_entries',
    help: 'Entries in each bounded cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });
  readonly supergraphInfo = new Gauge({
    name: 'supergraph_info',
    help: 'The supergraph served (1 for its hash)',
    labelNames: ['hash'] as const,
    registers: [this.registry],
  });
  readonly supergraphLoaded = new Gauge({
    name: 'supergraph_last_load_timestamp_seconds',
    help: 'When the supergraph served was loaded (start or reload)',
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'supergraph_reloads_total',
    help: 'Supergraph reload attempts by outcome (reloaded, unchanged, refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  static readonly MAX_OPERATION_NAMES = 200;

  /** A bounded label for a client-chosen operation name. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return '';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= GatewayMetrics.MAX_OPERATION_NAMES || name.length > 100) return 'other';
    this.operationNames.add(name);
    return name;
  }

  servingSupergraph(hash: string, at: Date): void {
    this.supergraphInfo.reset();
    this.supergraphInfo.set({ hash }, 1);
    this.supergraphLoaded.set(at.getTime() / 1000);
  }
}
