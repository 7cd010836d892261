import { setMaxListeners } from 'node:events';
import { defaultFieldResolver, GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { HttpError } from '../mesh/http.js';

/** What one GraphQL request may cost a subgraph. 0 turns a limit off. */
export interface RequestLimits {
  /** The subgraph's own deadline for one request, in milliseconds. */
  timeoutMs: number;
  /** Rows the request's SQL statements may return, summed over all of them. */
  maxRows: number;
  /** Size of the response, in bytes. */
  maxResponseBytes: number;
}

/**
 * A little above the gateway's default subgraph timeout (30 s), so the gateway's deadline is the one
 * callers normally see; far above what the mesh's own queries need (the benchmark's "wide" query,
 * 100 customers with their orders, lines and products, returns a few thousand rows and ~0.5 MB).
 */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({ timeoutMs: 35_000, maxRows: 100_000, maxResponseBytes: 10_000_000 });

export type StopReason = 'timeout' | 'cancelled' | 'rows' | 'bytes';

/** Why a request was stopped, as the HTTP answer the kit gives (nobody reads the answer to a cancelled one). */
export class RequestStopped extends HttpError {
  constructor(
    readonly reason: StopReason,
    status: number,
    code: string,
    message: string,
  ) {
    super(status, code, message);
  }
}

/** Continuous execution longer than this yields to the event loop (other requests, disconnects, timers). */
const SLICE_MS = 10;
/** Fields resolved between two looks at the clock. */
const CLOCK_EVERY = 256;
/**
 * List items a slice may take on. Completing an item is cheap, but a DataLoader batch settles
 * for all its callers in one go, and their lists are completed before the clock is read again.
 */
const ITEMS_PER_SLICE = 1_000;

/**
 * One request's budget in a subgraph: its deadline, the rows its SQL returned, an estimate of its
 * response size, and the signal that stops it.
 *
 * better-sqlite3 is synchronous (and a PostgreSQL pool answers fast) and graphql-js resolves cached values without ever returning to
 * the event loop, so a big request would hold the process until it is done: no other request, no
 * timer, not even the news that the gateway hung up. The budget makes the work cooperative: the
 * SQL layer asks it before every statement, and every field resolver (see `guardResolvers`) asks
 * it before resolving. After a slice of continuous work (10 ms, or 1,000 list items), fields queue
 * and the event loop runs; queued fields are then let go one at a time until the next slice is
 * used up, because each one can fan out into a whole list of objects. DataLoader batches wait for
 * the queued fields, so pausing never splits a batch. Once stopped, the next statement or field
 * fails with the request's error, so an abandoned request ends within a statement or a slice.
 */
export class RequestBudget {
  /** Told the size of every DataLoader batch of this request (the subgraph's metrics). */
  onBatch?: (keys: number) => void;
  /** Aborted when the request is stopped; its reason is the RequestStopped. */
  readonly signal: AbortSignal;
  /** Rows returned by this request's SQL statements so far. */
  rows = 0;
  /** A lower bound of the response's size so far: the keys and text values of the fields resolved. */
  bytes = 0;
  stopped: RequestStopped | null = null;
  private readonly controller = new AbortController();
  private readonly deadline: number;
  private readonly timer: NodeJS.Timeout | undefined;
  /** What stopped fields and statements throw: one error, already located, so graphql-js copies nothing. */
  private halt: GraphQLError | null = null;
  /**
   * What stopped fields return: the error as a rejected promise, never a synchronous throw. A field
   * that throws can abort graphql-js's loop over its siblings, orphaning their promises, whose
   * rejections would then go unhandled (and end the process).
   */
  private rejected: Promise<never> | null = null;
  private fields = 0;
  /** List items resolved in this slice. */
  private items = 0;
  private sliceStart = performance.now();
  /** Fields wait here once a slice is used up, until the event loop has run. */
  private readonly waiting: (() => void)[] = [];
  private yielding = false;
  private releaseScheduled = false;
  /** DataLoader batches held back while fields wait: they go once no field waits any more. */
  private readonly batches: (() => void)[] = [];

  constructor(
    readonly limits: RequestLimits,
    readonly subgraph: string,
  ) {
    this.signal = this.controller.signal;
    // Each statement in flight listens (the PostgreSQL engine cancels it on the server): a batch-heavy request has many.
    setMaxListeners(1_000, this.signal);
    this.deadline = limits.timeoutMs > 0 ? this.sliceStart + limits.timeoutMs : Infinity;
    // The clock checks cover a busy request; the timer covers one that waits.
    if (limits.timeoutMs > 0) this.timer = setTimeout(() => this.stop('timeout'), limits.timeoutMs).unref();
  }

  /** Stops the request (the first reason wins) and aborts its signal; returns the error to throw. */
  stop(reason: StopReason): GraphQLError {
    if (!this.stopped) {
      this.stopped = this.stoppedFor(reason);
      this.halt = new GraphQLError(this.stopped.message, { path: [], extensions: { code: this.stopped.code } });
      this.rejected = Promise.reject(this.halt);
      this.rejected.catch(() => {});
      this.controller.abort(this.stopped);
      this.dispose();
      // Held batches go now (and fail at their first check).
      queueMicrotask(() => this.dispatchBatches());
    }
    return this.halt!;
  }

  /** Throws when the request was stopped or its deadline passed. */
  check(): void {
    if (this.halt) throw this.halt;
    if (performance.now() > this.deadline) throw this.stop('timeout');
  }

  /** Milliseconds left before the deadline (Infinity without one): a statement's timeout on a database server. */
  remainingMs(): number {
    return this.deadline - performance.now();
  }

  /** Before each SQL statement. */
  beforeStatement(): void {
    this.check();
  }

  /** After each SQL statement, with the number of rows it returned. */
  afterStatement(rows: number): void {
    this.rows += rows;
    if (this.limits.maxRows > 0 && this.rows > this.limits.maxRows) throw this.stop('rows');
  }

  /**
   * Before each field: null to go ahead, or a promise to wait on while the request gives the event
   * loop its turn (rejected once the request is stopped).
   */
  enterField(key: string): Promise<void> | null {
    if (this.rejected) return this.rejected;
    this.bytes += key.length + 4; // "key":…,
    if (this.limits.maxResponseBytes > 0 && this.bytes > this.limits.maxResponseBytes) return this.fail('bytes');
    if (this.yielding) return this.wait();
    if (++this.fields % CLOCK_EVERY !== 0) return null;
    const now = performance.now();
    if (now > this.deadline) return this.fail('timeout');
    if (now - this.sliceStart < SLICE_MS) return null;
    this.yielding = true;
    return this.wait();
  }

  /**
   * A resolver's result. Text counts towards the response size. A promise (a DataLoader batch,
   * which settles for all its callers at once) passes the gate again when it settles, so the lists
   * it brings are completed a few at a time too.
   */
  resolved(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value instanceof Promise) return value.then(this.arrived);
    if (Array.isArray(value)) return this.list(value);
    return value;
  }

  private readonly arrived = (value: unknown): unknown => {
    if (this.rejected) return this.rejected;
    if (typeof value === 'string') return this.text(value);
    if (this.yielding) return this.later(value);
    return Array.isArray(value) ? this.list(value) : value;
  };

  /** A list takes its items out of the slice; past the slice's share, it waits for the next one. */
  private list(value: unknown[]): unknown {
    this.items += value.length;
    if (this.items <= ITEMS_PER_SLICE) return value;
    this.yielding = true;
    return this.later(value);
  }

  private later(value: unknown): Promise<unknown> {
    return this.wait().then(() => {
      this.check();
      return value;
    });
  }

  private text(value: string): string | Promise<never> {
    this.bytes += value.length + 2;
    if (this.limits.maxResponseBytes > 0 && this.bytes > this.limits.maxResponseBytes) return this.fail('bytes');
    return value;
  }

  private fail(reason: StopReason): Promise<never> {
    this.stop(reason);
    return this.rejected!;
  }

  /** The exact check, on the serialized response: the refusal to send instead, or null. */
  refuseResponse(body: string): RequestStopped | null {
    if (this.stopped) return this.stopped;
    const max = this.limits.maxResponseBytes;
    // A UTF-16 code unit is at most 3 bytes of UTF-8: count bytes only when it can matter.
    if (max > 0 && body.length * 3 > max && Buffer.byteLength(body) > max) this.stop('bytes');
    return this.stopped;
  }

  /**
   * DataLoader's `batchScheduleFn` for this request's loaders: DataLoader's own timing (after the
   * current promise jobs), except that while fields wait for their turn the batch waits for all
   * of them, so that every key they ask for joins it: pausing never splits a batch.
   */
  readonly scheduleBatch = (dispatch: () => void): void => {
    void Promise.resolve().then(() =>
      process.nextTick(() => {
        if (this.halt || this.waiting.length === 0) dispatch();
        else this.batches.push(dispatch);
      }),
    );
  };

  /**
   * Held batches go once the fields just let go have finished their synchronous work (a field's
   * work continues over several promise jobs, and may still add keys): after the promise jobs,
   * as DataLoader itself schedules, and only if no field waits again by then.
   */
  private dispatchWhenSettled(): void {
    if (this.batches.length === 0) return;
    void Promise.resolve().then(() =>
      process.nextTick(() => {
        if (this.halt || this.waiting.length === 0) this.dispatchBatches();
      }),
    );
  }

  private dispatchBatches(): void {
    for (const dispatch of this.batches.splice(0)) dispatch();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.releaseScheduled) {
        this.releaseScheduled = true;
        setImmediate(this.release);
      }
    });
  }

  /**
   * One turn of the event loop: lets waiting fields go one at a time, each in its own microtask,
   * so the clock is read after each one's synchronous work (one field can complete a whole list of
   * objects), until the slice is used up; then the fields still running queue again.
   */
  private readonly release = (): void => {
    this.releaseScheduled = false;
    const turn = performance.now();
    this.sliceStart = turn;
    this.items = 0;
    this.yielding = false;
    const step = (): void => {
      if (this.waiting.length === 0) return this.dispatchWhenSettled();
      if (this.yielding || performance.now() - turn > SLICE_MS) {
        this.yielding = true;
        if (!this.releaseScheduled) {
          this.releaseScheduled = true;
          setImmediate(this.release);
        }
        return;
      }
      // Last in, first out: finishing one branch before starting the next keeps the frontier small.
      this.waiting.pop()!();
      queueMicrotask(step);
    };
    step();
  };

  private stoppedFor(reason: StopReason): RequestStopped {
    const { subgraph, limits } = this;
    switch (reason) {
      case 'timeout':
        return new RequestStopped(reason, 503, 'SUBGRAPH_REQUEST_TIMEOUT', `Subgraph "${subgraph}" stopped the request after its ${limits.timeoutMs} ms deadline`);
      case 'cancelled':
        return new RequestStopped(reason, 499, 'CLIENT_CLOSED_REQUEST', `Subgraph "${subgraph}" stopped the request: the caller disconnected`);
      case 'rows':
        return new RequestStopped(reason, 422, 'SUBGRAPH_ROW_LIMIT', `Subgraph "${subgraph}" stopped the request: it read more than ${limits.maxRows} rows; ask for fewer items`);
      case 'bytes':
        return new RequestStopped(
          reason,
          422,
          'SUBGRAPH_RESPONSE_TOO_LARGE',
          `Subgraph "${subgraph}" stopped the request: its response exceeds ${limits.maxResponseBytes} bytes; ask for fewer items or fields`,
        );
    }
  }
}

/**
 * Makes every field of the schema answer to its request's budget (`context.budget`): a stopped
 * request's fields fail instead of resolving, the response size is counted as it is built, and
 * long executions pause for the event loop. One extra call and a counter per field.
 */
export function guardResolvers(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const budget = (context as { budget?: RequestBudget }).budget;
        if (!budget) return resolve(source, args, context, info);
        const pause = budget.enterField(String(info.path.key));
        if (!pause) return budget.resolved(resolve(source, args, context, info));
        return pause.then(() => {
          budget.check();
          return budget.resolved(resolve(source, args, context, info));
        });
      };
    }
  }
  return schema;
}
