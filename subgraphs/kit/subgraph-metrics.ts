import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A subgraph's Prometheus metrics (prom-client, one registry per subgraph): SQL statements,
 * requests, requests in flight and stopped (the benchmark and the tests read these names), request
 * latency, DataLoader batch sizes, and the process's own metrics.
 */
export function subgraphMetrics(
  subgraph: string,
  read: { statements: () => number; requests: () => number; inFlight: () => number; stopped: () => Record<string, number> },
) {
  const registry = new Registry();
  registry.setDefaultLabels({ subgraph });
  collectDefaultMetrics({ register: registry });
  new Counter({
    name: 'subgraph_sql_statements_total',
    help: 'SQL statements executed',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read.statements());
    },
  });
  new Counter({
    name: 'subgraph_graphql_requests_total',
    help: 'GraphQL requests served',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read.requests());
    },
  });
  new Gauge({
    name: 'subgraph_graphql_requests_in_flight',
    help: 'GraphQL requests still executing',
    registers: [registry],
    collect() {
      this.set(read.inFlight());
    },
  });
  new Counter({
    name: 'subgraph_requests_stopped_total',
    help: 'Requests stopped before their end, by reason (timeout, cancelled, rows, bytes)',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(read.stopped())) this.inc({ reason }, n);
    },
  });
  const requestDuration = new Histogram({
    name: 'subgraph_request_duration_seconds',
    help: 'GraphQL request latency, by outcome (ok, abandoned: the gateway hung up)',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'dataloader_batch_size',
    help: 'Keys per DataLoader batch (one SQL statement each)',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  return { registry, requestDuration, batchSize };
}
