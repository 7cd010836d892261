import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The spans the gateway and every subgraph make the same way: the HTTP request (a SERVER span that
 * continues the caller's W3C `traceparent`), and GraphQL parse and validate (Apollo Server plugin).
 * Names and attributes follow the OpenTelemetry semantic conventions for HTTP and GraphQL. No
 * header, token, query string, variable or document text is ever recorded.
 *
 * With tracing off (no provider registered) every span here is the API's non-recording span and
 * nothing else is built: no attributes, no listeners, no context switch.
 */
const httpTracer = trace.getTracer('data-mesh/http');
const graphqlTracer = trace.getTracer('data-mesh/graphql');
const SERVER = { kind: SpanKind.SERVER } as const;

/**
 * Runs `handle` for one HTTP request inside its SERVER span (`POST /graphql`), a child of the
 * caller's span when the request carries a `traceparent`. The span ends when the response is
 * done (or the connection closes), with its status code.
 */
export function serveTraced<T>(req: IncomingMessage, res: ServerResponse, route: string, handle: () => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = httpTracer.startSpan(route, SERVER, parent);
  // Tracing off: the no-op span, with an invalid context. (Sampled out: a valid context that does
  // not record, which must still be the active one so that the decision travels downstream.)
  if (!span.isRecording()) {
    if (!isSpanContextValid(span.spanContext())) return handle();
    return context.with(trace.setSpan(parent, span), handle);
  }
  const method = req.method ?? 'GET';
  span.updateName(`${method} ${route}`);
  span.setAttributes({
    'http.request.method': method,
    'http.route': route,
    'url.path': (req.url ?? '/').split('?')[0],
    'url.scheme': 'http',
    'network.protocol.version': req.httpVersion,
  });
  if (req.socket.localPort) span.setAttribute('server.port', req.socket.localPort);
  const agent = req.headers['user-agent'];
  if (agent) span.setAttribute('user_agent.original', agent);
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    // The client hung up before the answer was written.
    if (!res.writableFinished) span.setAttribute('error.type', 'client_closed');
    span.end();
  });
  return context.with(trace.setSpan(parent, span), handle);
}

/**
 * Apollo Server plugin: `graphql.parse` and `graphql.validate` spans (children of the request's
 * span, when a recording one is active), and `graphql.operation.name` / `graphql.operation.type`
 * on the request's span once the operation is known. A document Apollo already parsed (its cache)
 * has no parse span.
 */
export function graphqlSpansPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const request = trace.getActiveSpan();
      if (!request?.isRecording()) return;
      return {
        async parsingDidStart() {
          const span = graphqlTracer.startSpan('graphql.parse');
          return async (error) => endSpan(span, error ? [error] : undefined);
        },
        async validationDidStart() {
          const span = graphqlTracer.startSpan('graphql.validate');
          return async (errors) => endSpan(span, errors);
        },
        async didResolveOperation({ operation, operationName }) {
          if (operation) request.setAttribute('graphql.operation.type', operation.operation);
          if (operationName) request.setAttribute('graphql.operation.name', operationName);
        },
      };
    },
  };
}

function endSpan(span: Span, errors: readonly Error[] | undefined): void {
  // The kind of error only: a message may quote the document.
  if (errors?.length) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', errors[0]!.name || 'GraphQLError');
  }
  span.end();
}

/**
 * Marks a background request (the gateway's readiness probes) as sampled out, so that a subgraph
 * that traces does not record each probe as a trace of its own. Nothing when this process does not
 * trace (no propagator is registered).
 */
export function sampledOut(headers: Record<string, string>): Record<string, string> {
  if (propagation.fields().length === 0) return headers;
  const spanContext = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.NONE };
  propagation.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), headers);
  return headers;
}

/** A span's `error.type`: the error's code (`extensions.code` or `code`, e.g. REQUEST_TIMEOUT), else its class. */
export function errorType(error: unknown): string {
  const e = error as { code?: unknown; extensions?: { code?: unknown }; name?: unknown } | null;
  const code = e?.extensions?.code ?? e?.code;
  if (typeof code === 'string') return code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}
