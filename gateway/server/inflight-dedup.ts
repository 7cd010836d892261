import { trace } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { GraphQLHttpResult } from '../../subgraphs/mesh/http.js';
import { SharedWork, untilAborted } from './cancellation.js';

/**
 * Identical requests that arrive while one is already executing share its result, as Hive
 * Gateway's `inboundInflightRequestDeduplication` does, but governed: two requests share only if
 * everything authorization depends on is identical — the very same credentials (Authorization
 * header), the declared purpose (X-Data-Purpose), the Accept header, and the same operation text
 * and variables. Only queries are shared; anything that mentions a mutation or subscription, and
 * streamed (incremental) answers, run on their own. Nothing is cached after the first answer.
 *
 * Each client passes its request's signal (deadline, disconnect): it gets its own answer (the
 * signal's reason) as soon as that fires, and a shared execution is aborted only once every client
 * waiting for it has gone.
 */
export class InflightDedup {
  private readonly inflight = new Map<string, SharedWork<GraphQLHttpResult>>();

  run(
    req: IncomingMessage,
    operation: string,
    execute: (signal?: AbortSignal) => Promise<GraphQLHttpResult>,
    signal?: AbortSignal,
  ): Promise<GraphQLHttpResult> {
    const alone = () => untilAborted(execute(signal), signal);
    // Cheap tests first: the regex runs only when a keyword appears at all.
    // A JSON body may spell the keyword with escapes (`"\u006dutation { … }"`): any `\u` escape
    // makes the text unreadable to these tests, so such a request is never shared.
    const mayWrite =
      operation.includes('\\u') || ((operation.includes('mutation') || operation.includes('subscription')) && /\b(mutation|subscription)\b/.test(operation));
    if (mayWrite || /^\s*\[/.test(operation)) return alone();
    const h = req.headers;
    // x-cost-extensions changes the answer (extensions.cost): requests that differ in it do not share.
    const key = `${req.method}\n${h.authorization ?? ''}\n${h['x-data-purpose'] ?? ''}\n${h.accept ?? ''}\n${h['x-cost-extensions'] ?? ''}\n${operation}`;
    const pending = this.inflight.get(key);
    if (pending) {
      // Tracing: this request's trace has no execution of its own (another request's runs for both).
      trace.getActiveSpan()?.setAttribute('mesh.execution.shared', true);
      // A streamed answer has a single reader: the others run their own.
      return pending.join(signal).then((result) => (typeof result.body === 'string' ? result : alone()));
    }
    const shared = new SharedWork(execute);
    this.inflight.set(key, shared);
    const forget = () => {
      if (this.inflight.get(key) === shared) this.inflight.delete(key);
    };
    shared.promise.then(forget, forget);
    // Abandoned by every client: a new identical request starts afresh instead of joining it.
    shared.onAbort(forget);
    return shared.join(signal);
  }
}
