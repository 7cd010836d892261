import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { GraphQLError } from 'graphql';
import { Agent, request } from 'undici';
import { IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import { errorType } from '../../subgraphs/mesh/request-spans.js';
import { SharedWork, type CancelSignal } from './cancellation.js';
import type { GatewayContext } from './gateway-context.js';

/**
 * How the gateway talks to one subgraph.
 *
 * - Pooled keep-alive HTTP (undici), one pool shared by all subgraphs of a gateway.
 * - Every fetch carries the caller's identity, signed by the gateway; subgraphs refuse anything else.
 * - Identical fetches in flight at the same time, for the same signed identity, share one HTTP
 *   request: the key includes the identity, so callers with different rights never share. Each
 *   caller parses its own copy of the answer (the gateway mutates what it merges). Mutations are
 *   never shared.
 * - A subgraph that is down or answers garbage becomes a GraphQL error naming it
 *   (SUBGRAPH_UNAVAILABLE); the rest of the response is still served.
 * - Every fetch has a deadline (Router's `traffic_shaping` timeout for this subgraph): past it the
 *   HTTP request is aborted and the fetch fails with GATEWAY_TIMEOUT naming the subgraph, as
 *   Router's does; the rest of the response is still served.
 * - A fetch is tied to its request's signal (`context.signal`: the client went away, the request's
 *   own deadline passed) and aborted with it. A shared fetch is aborted only once every request
 *   waiting for it has gone; an aborted one is never joined.
 */
export class SubgraphDataSource implements GraphQLDataSource<Record<string, any>> {
  private readonly inflight = new Map<string, SharedWork<SubgraphAnswer>>();
  constructor(
    readonly subgraphName: string,
    private readonly url: string,
    private readonly agent: Agent,
    /** The deadline of each fetch, in milliseconds (0: none). */
    readonly timeoutMs = 30_000,
    /** Told of every fetch: how it ended (ok, error, timeout, cancelled), how long it took, the error code. */
    private readonly observe?: (outcome: string, seconds: number, code?: string) => void,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<Record<string, any>>): Promise<GatewayGraphQLResponse> {
    if (!this.observe) return this.fetch(options);
    const started = performance.now();
    try {
      const response = await this.fetch(options);
      this.observe('ok', (performance.now() - started) / 1000);
      return response;
    } catch (error) {
      const code = String((error as GraphQLError).extensions?.code ?? 'SUBGRAPH_UNAVAILABLE');
      const outcome = code === 'GATEWAY_TIMEOUT' ? 'timeout' : code === 'SUBGRAPH_UNAVAILABLE' ? 'error' : 'cancelled';
      this.observe(outcome, (performance.now() - started) / 1000, code);
      throw error;
    }
  }

  private async fetch(options: GraphQLDataSourceProcessOptions<Record<string, any>>): Promise<GatewayGraphQLResponse> {
    const { query, variables, operationName } = options.request;
    const body = JSON.stringify({ query, variables, operationName });
    const context = options.context as Partial<GatewayContext>;
    const identity = context.identityHeader ?? '';
    const signal = context.signal;
    if (signal?.aborted) throw this.cancelled(signal.reason);
    let answer: SubgraphAnswer;
    try {
      if (query && /^\s*mutation\b/.test(query)) {
        answer = await this.sendShared(body, identity).join(signal);
      } else {
        const key = `${identity}\n${body}`;
        let shared = this.inflight.get(key);
        if (!shared) {
          const started = this.sendShared(body, identity);
          const forget = () => {
            if (this.inflight.get(key) === started) this.inflight.delete(key);
          };
          started.promise.then(forget, forget);
          started.onAbort(forget);
          this.inflight.set(key, started);
          shared = started;
        }
        answer = await shared.join(signal);
      }
    } catch (error) {
      // This request stopped waiting (its client went away, its deadline passed).
      if (signal?.aborted && error === signal.reason) throw this.cancelled(signal.reason);
      throw error;
    }
    return this.interpret(answer);
  }

  /** One HTTP request under the fetch's deadline, which every caller waiting for it shares. */
  private sendShared(body: string, identity: string): SharedWork<SubgraphAnswer> {
    return new SharedWork((own) => this.send(body, identity, own), { deadline: { ms: this.timeoutMs, reason: TIMED_OUT } });
  }

  /**
   * One HTTP request, in a CLIENT span when tracing records (see `tracedSend`); otherwise it still
   * carries the trace context when there is one (a request sampled out stays sampled out downstream).
   */
  private send(body: string, identity: string, signal: CancelSignal): Promise<SubgraphAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', [IDENTITY_HEADER]: identity };
    const active = context.active();
    const parent = trace.getSpan(active);
    if (!parent || !isSpanContextValid(parent.spanContext())) return this.request(body, headers, signal);
    if (!parent.isRecording()) {
      propagation.inject(active, headers);
      return this.request(body, headers, signal);
    }
    return this.tracedSend(body, headers, signal, active);
  }

  /** The subgraph fetch's CLIENT span (`POST /graphql`, subgraph.name, url.full, status); its context goes along as `traceparent`. */
  private async tracedSend(body: string, headers: Record<string, string>, signal: CancelSignal, active: Context): Promise<SubgraphAnswer> {
    const { name, attributes } = (this.spanTemplate ??= this.makeSpanTemplate());
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, active);
    propagation.inject(trace.setSpan(active, span), headers);
    try {
      const answer = await this.request(body, headers, signal);
      span.setAttribute('http.response.status_code', answer.status);
      if (answer.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', String(answer.status));
      return answer;
    } catch (error) {
      // GATEWAY_TIMEOUT, SUBGRAPH_UNAVAILABLE, or why the callers left (CLIENT_CLOSED_REQUEST…).
      span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(error));
      throw error;
    } finally {
      span.end();
    }
  }

  /** The fetch span's name and fixed attributes, made once (tracing on only). */
  private spanTemplate: { name: string; attributes: Attributes } | undefined;
  private makeSpanTemplate(): { name: string; attributes: Attributes } {
    const url = new URL(this.url);
    return {
      name: `POST ${url.pathname}`,
      attributes: {
        'subgraph.name': this.subgraphName,
        'http.request.method': 'POST',
        // Without credentials or a query string, should the routing URL carry any.
        'url.full': `${url.origin}${url.pathname}`,
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      },
    };
  }

  /** One HTTP request, aborted by `signal`: the fetch's deadline passed (TIMED_OUT) or every caller has gone. */
  private async request(body: string, headers: Record<string, string>, signal: CancelSignal): Promise<SubgraphAnswer> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      if (signal.aborted) throw signal.reason === TIMED_OUT ? this.timedOut() : this.cancelled(signal.reason);
      throw this.unavailable(error instanceof Error ? (error as Error & { code?: string }).code ?? error.message : String(error));
    }
  }

  private interpret({ status, text }: SubgraphAnswer): GatewayGraphQLResponse {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.unavailable(`HTTP ${status}, not a JSON response`);
    }
    if (typeof parsed !== 'object' || parsed === null || (!('data' in parsed) && !('errors' in parsed))) {
      throw this.unavailable(`HTTP ${status}, not a GraphQL response`);
    }
    // A GraphQL error body (even with a 4xx/5xx status) is passed on: the gateway attributes it to this subgraph.
    return parsed as GatewayGraphQLResponse;
  }

  /** Router's code for a subgraph past its `traffic_shaping` timeout. */
  private timedOut(): GraphQLError {
    return new GraphQLError(`Subgraph "${this.subgraphName}" did not answer within its ${this.timeoutMs} ms timeout: your request has been timed out`, {
      extensions: { code: 'GATEWAY_TIMEOUT', serviceName: this.subgraphName },
    });
  }

  /** Nobody waits for the answer any more; the code says why (GATEWAY_TIMEOUT, CLIENT_CLOSED_REQUEST). */
  private cancelled(reason: unknown): GraphQLError {
    const why = reason instanceof Error ? reason.message : String(reason);
    const code = (reason as { code?: unknown } | null)?.code;
    return new GraphQLError(`Fetch from subgraph "${this.subgraphName}" cancelled: ${why}`, {
      extensions: { code: typeof code === 'string' ? code : 'REQUEST_CANCELLED', serviceName: this.subgraphName },
    });
  }

  private unavailable(reason: string): GraphQLError {
    return new GraphQLError(`Subgraph "${this.subgraphName}" is unavailable: ${reason}`, {
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: this.subgraphName },
    });
  }
}

const tracer = trace.getTracer('data-mesh/gateway');

/** The reason a fetch's own deadline gives (a caller's reasons are its own). */
const TIMED_OUT = Symbol('subgraph timeout');

interface SubgraphAnswer {
  status: number;
  text: string;
}

/** One keep-alive pool per gateway, for all its subgraphs. */
export function createSubgraphAgent(): Agent {
  return new Agent({ connections: 128, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
}
