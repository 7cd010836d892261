import type { ServerResponse } from 'node:http';
import { HttpError } from '../../subgraphs/mesh/http.js';

/**
 * When the gateway stops working on a request: its deadline (Router's `traffic_shaping.router.timeout`)
 * passed, or its client went away before the answer was written. Either aborts the request's
 * signal, which every subgraph fetch of the request is tied to.
 */

/** Router's answer past `traffic_shaping.router.timeout`: HTTP 504, code GATEWAY_TIMEOUT. */
export const routerTimedOut = (): HttpError => new HttpError(504, 'GATEWAY_TIMEOUT', 'Your request has been timed out');
/** The client closed the connection first (nginx's and Router's 499); nobody reads this answer. */
export const clientClosed = (): HttpError => new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'The client closed the connection before the answer was written');

/**
 * What AbortController and AbortSignal do for a request, at a fraction of their cost: Node's
 * AbortSignal is an EventTarget (several microseconds to create, more per listener), and a request
 * needs one per execution, per shared fetch and for its own lifetime. undici takes this as a fetch's
 * `signal` directly (it asks for `aborted`, `reason` and add/removeEventListener); `asAbortSignal()`
 * makes a real AbortSignal, once, for an API that needs one (fetch, AbortSignal.any). Listeners
 * run once, in the order added; any number may listen (no leak warning to silence).
 */
export class Cancellation {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Set<() => void> | null = null;
  private controller: AbortController | null = null;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = null;
    this.controller?.abort(reason);
    if (listeners) for (const listener of listeners) listener();
  }

  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.aborted) (this.listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners?.delete(listener);
  }

  /** A real AbortSignal that aborts with this (made on first use). */
  asAbortSignal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

/** What waits on a cancellation: ours, or a real AbortSignal. */
export type CancelSignal = Pick<Cancellation, 'aborted' | 'reason' | 'addEventListener' | 'removeEventListener'>;

/** One client request's signal: aborted by its deadline or by its client hanging up. */
export class RequestLifetime {
  readonly signal = new Cancellation();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    timeoutMs: number,
  ) {
    if (timeoutMs > 0) this.timer = setTimeout(() => this.signal.abort(routerTimedOut()), timeoutMs);
    res.once('close', this.closed);
  }

  private readonly closed = (): void => {
    if (!this.res.writableFinished) this.signal.abort(clientClosed());
  };

  /** The answer is written (or the request failed): the deadline no longer applies. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the work itself goes on unless told otherwise). */
export function untilAborted<T>(promise: Promise<T>, signal: CancelSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(signal.reason);
    signal.addEventListener('abort', aborted, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', aborted);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', aborted);
        reject(error);
      },
    );
  });
}

/**
 * Work shared by several callers (identical requests, identical subgraph fetches). It runs under its
 * own signal, aborted only when every caller that joined with a signal has gone: one client hanging
 * up never cancels the answer others still wait for. A caller that joins without a signal never
 * leaves.
 */
export class SharedWork<T> {
  private readonly own = new Cancellation();
  readonly promise: Promise<T>;
  private waiting = 0;

  /** `deadline`: the work's own time limit, aborting it with `reason` (the same signal as the callers leaving). */
  constructor(start: (signal: Cancellation) => Promise<T>, options: { deadline?: { ms: number; reason: unknown } } = {}) {
    this.promise = start(this.own);
    this.promise.catch(() => {});
    const deadline = options.deadline;
    if (deadline && deadline.ms > 0) {
      const timer = setTimeout(() => this.own.abort(deadline.reason), deadline.ms);
      const clear = () => clearTimeout(timer);
      this.promise.then(clear, clear);
    }
  }

  /** Called when the work is aborted (every caller went away, or its deadline passed): new callers must not join it. Not called when it settles. */
  onAbort(listener: () => void): void {
    this.own.addEventListener('abort', listener);
  }

  /** Waits for the work; rejects with the caller's own reason as soon as its signal aborts. */
  join(signal?: CancelSignal): Promise<T> {
    this.waiting++;
    if (!signal) return this.promise;
    const leave = () => {
      if (--this.waiting === 0) this.own.abort(signal.reason);
    };
    if (signal.aborted) {
      leave();
      return Promise.reject(signal.reason);
    }
    signal.addEventListener('abort', leave, { once: true });
    const done = () => signal.removeEventListener('abort', leave);
    this.promise.then(done, done);
    return untilAborted(this.promise, signal);
  }
}
