// The part of autocannon 9's programmatic API the benchmark uses (it ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p97_5: number;
    p99: number;
    p99_9: number;
    sent?: number;
  }
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    pipelining?: number;
    verifyBody?: (body: string) => boolean;
    /** Per-request templates; `setupRequest` may rewrite each request before it is sent. */
    requests?: { setupRequest?: (request: { body?: string; headers?: Record<string, string> }) => { body?: string; headers?: Record<string, string> } }[];
    expectBody?: string;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    latency: Histogram;
    requests: Histogram & { sent: number };
    throughput: Histogram;
    statusCodeStats: Record<string, { count: number }>;
  }
  /** The running load: a promise of its result that also reports each answer and error as it happens. */
  interface Instance extends Promise<Result> {
    on(event: 'response' | 'reqError', listener: () => void): this;
    /** Ends the run at its next sample tick (once a second), as if its duration had elapsed. */
    stop(): void;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
