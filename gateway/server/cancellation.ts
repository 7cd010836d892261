import { setMaxListeners } from 'node:events';
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

/** One client request's signal: aborted by its deadline or by its client hanging up. */
export class RequestLifetime {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    timeoutMs: number,
  ) {
    // Every subgraph fetch of the request listens to this signal: no leak warning past ten.
    setMaxListeners(0, this.signal);
    if (timeoutMs > 0) this.timer = setTimeout(() => this.controller.abort(routerTimedOut()), timeoutMs);
    res.once('close', this.closed);
  }

  private readonly closed = (): void => {
    if (!this.res.writableFinished) this.controller.abort(clientClosed());
  };

  /** The answer is written (or the request failed): the deadline no longer applies. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the work itself goes on unless told otherwise). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
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
  private readonly controller = new AbortController();
  readonly promise: Promise<T>;
  private waiting = 0;

  /**
   * `deadline`: the work's own time limit, aborting it with `reason` (one signal serves both the
   * deadline and the callers leaving: a subgraph fetch needs no second controller).
   * `manyListeners`: the signal is handed to work that ties many fetches to it (an execution).
   */
  constructor(start: (signal: AbortSignal) => Promise<T>, options: { deadline?: { ms: number; reason: unknown }; manyListeners?: boolean } = {}) {
    const signal = this.controller.signal;
    if (options.manyListeners) setMaxListeners(0, signal);
    this.promise = start(signal);
    this.promise.catch(() => {});
    const deadline = options.deadline;
    if (deadline && deadline.ms > 0) {
      const timer = setTimeout(() => this.controller.abort(deadline.reason), deadline.ms);
      const clear = () => clearTimeout(timer);
      this.promise.then(clear, clear);
    }
  }

  /** Aborted because every caller went away (or by `abort`): new callers must not join it. */
  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Called when the work is aborted; not called when it settles. */
  onAbort(listener: () => void): void {
    this.controller.signal.addEventListener('abort', listener, { once: true });
  }

  abort(reason: unknown): void {
    this.controller.abort(reason);
  }

  /** Waits for the work; rejects with the caller's own reason as soon as its signal aborts. */
  join(signal?: AbortSignal): Promise<T> {
    this.waiting++;
    if (!signal) return this.promise;
    const leave = () => {
      if (--this.waiting === 0) this.controller.abort(signal.reason);
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
