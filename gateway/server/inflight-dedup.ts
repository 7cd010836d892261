import { trace } from '@opentelemetry/api';
import type { GraphQLHttpResult } from '../../subgraphs/mesh/http.js';
import { SharedWork, untilAborted, type Cancellation } from './cancellation.js';

/**
 * Requests that arrive while an equivalent one is already executing share its result, as Hive
 * Gateway's `inboundInflightRequestDeduplication` does, but governed: the key (sharingKey) holds
 * everything authorization and the answer depend on — the caller's verified claims and purpose,
 * the headers that change the answer, the parsed operation and canonical variables — and is null
 * for what must run alone (mutations, subscriptions, batches). Streamed (incremental) answers have a
 * single reader: the others run their own. Nothing is cached after the first answer.
 *
 * Each client passes its request's signal (deadline, disconnect): it gets its own answer (the
 * signal's reason) as soon as that fires, and a shared execution is aborted only once every client
 * waiting for it has gone.
 */
export class InflightDedup {
  private readonly inflight = new Map<string, SharedWork<GraphQLHttpResult>>();

  run(key: string | null, execute: (signal?: Cancellation) => Promise<GraphQLHttpResult>, signal?: Cancellation): Promise<GraphQLHttpResult> {
    const alone = () => untilAborted(execute(signal), signal);
    if (key === null) return alone();
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
