import type { IncomingMessage } from 'node:http';
import type { GraphQLHttpResult } from '../../subgraphs/mesh/http.js';

/**
 * Identical requests that arrive while one is already executing share its result, as Hive
 * Gateway's `inboundInflightRequestDeduplication` does, but governed: two requests share only if
 * everything authorization depends on is identical — the very same credentials (Authorization
 * header), the declared purpose (X-Data-Purpose), the Accept header, and the same operation text
 * and variables. Only queries are shared; anything that mentions a mutation or subscription, and
 * streamed (incremental) answers, run on their own. Nothing is cached after the first answer.
 */
export class InflightDedup {
  private readonly inflight = new Map<string, Promise<GraphQLHttpResult>>();

  run(req: IncomingMessage, operation: string, execute: () => Promise<GraphQLHttpResult>): Promise<GraphQLHttpResult> {
    // Cheap tests first: the regex runs only when a keyword appears at all.
    // A JSON body may spell the keyword with escapes (`"\u006dutation { … }"`): any `\u` escape
    // makes the text unreadable to these tests, so such a request is never shared.
    const mayWrite =
      operation.includes('\\u') || ((operation.includes('mutation') || operation.includes('subscription')) && /\b(mutation|subscription)\b/.test(operation));
    if (mayWrite || /^\s*\[/.test(operation)) return execute();
    const h = req.headers;
    // x-cost-extensions changes the answer (extensions.cost): requests that differ in it do not share.
    const key = `${req.method}\n${h.authorization ?? ''}\n${h['x-data-purpose'] ?? ''}\n${h.accept ?? ''}\n${h['x-cost-extensions'] ?? ''}\n${operation}`;
    const pending = this.inflight.get(key);
    if (pending) {
      // A streamed answer has a single reader: the others run their own.
      return pending.then((result) => (typeof result.body === 'string' ? result : execute()));
    }
    const started = execute();
    this.inflight.set(key, started);
    started.finally(() => this.inflight.delete(key)).catch(() => {});
    return started;
  }
}
