import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { ConfigError } from '../config/config-error.js';
import type { OperationContext } from '../operation/prepared-operation-plugin.js';
import { allSelections, type OperationShape } from '../operation/operation-shape.js';
import { dayOf, DEFAULT_RETENTION_DAYS, usageStorePath, UsageStore } from './usage-store.js';

/**
 * Records which schema coordinates each executed operation used, for `npm run check`: on the
 * request path only a few map increments (the coordinates are derived once per prepared
 * operation); a timer writes the counts in one transaction every few seconds, and at shutdown.
 * The pending batch is bounded: past `maxPending` distinct coordinates a day, new ones are dropped
 * (and counted in the log). A store that cannot be opened or written is logged, never a request
 * error. In-flight sharing (identical queries of one caller) counts one execution.
 */
export interface UsageOptions {
  path: string | null;
  flushIntervalMs?: number;
  maxPending?: number;
  retentionDays?: number;
  now?: () => number;
}

export function usageOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): UsageOptions {
  const retention = env.MESH_USAGE_RETENTION_DAYS;
  const days = retention === undefined ? DEFAULT_RETENTION_DAYS : Number(retention);
  if (!Number.isInteger(days) || days < 1) throw new ConfigError('environment', 'MESH_USAGE_RETENTION_DAYS', `expected a whole number of days >= 1, got "${retention}"`);
  return { path: usageStorePath(env), retentionDays: days };
}

const COORDINATES = Symbol('usage coordinates');

/** Fields (`Type.field`) and the arguments a request passed (`Type.field(arg:)`), fragments included. */
export function usedCoordinates(shape: OperationShape): readonly string[] {
  const used = new Set<string>();
  for (const [, selection] of allSelections(shape)) {
    if (selection.kind !== 'field' || !selection.coordinate) continue;
    used.add(selection.coordinate);
    for (const arg of selection.node.arguments ?? []) used.add(`${selection.coordinate}(${arg.name.value}:)`);
  }
  return [...used];
}

export class UsageRecorder {
  private pending = new Map<string, { operations: number; coordinates: Map<string, number> }>();
  private pendingKeys = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastPrune = '';

  constructor(
    private readonly store: UsageStore,
    private readonly log: Logger,
    private readonly options: Required<Omit<UsageOptions, 'path'>>,
  ) {
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  record(coordinates: readonly string[]): void {
    const day = dayOf(this.options.now());
    let batch = this.pending.get(day);
    if (!batch) this.pending.set(day, (batch = { operations: 0, coordinates: new Map() }));
    batch.operations++;
    for (const coordinate of coordinates) {
      const count = batch.coordinates.get(coordinate);
      if (count !== undefined) batch.coordinates.set(coordinate, count + 1);
      else if (this.pendingKeys < this.options.maxPending) {
        batch.coordinates.set(coordinate, 1);
        this.pendingKeys++;
      } else this.dropped++;
    }
  }

  /** Writes what is pending (one transaction); prunes old days once a day. */
  flush(): void {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.pendingKeys = 0;
    try {
      this.store.add(batch);
      const today = dayOf(this.options.now());
      if (this.lastPrune !== today) {
        this.lastPrune = today;
        this.store.prune(dayOf(this.options.now() - this.options.retentionDays * 86_400_000));
      }
    } catch (error) {
      this.log.warn('usage store: could not write a batch; its counts are lost', { error: (error as Error).message });
    }
    if (this.dropped) {
      this.log.warn('usage store: coordinates dropped (more distinct coordinates than maxPending between two writes)', { dropped: this.dropped });
      this.dropped = 0;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    this.store.close();
  }
}

/** The Apollo Server plugin: opens the store when the server starts, flushes and closes it when it stops. */
export function usagePlugin(log: Logger, options: UsageOptions = usageOptionsFromEnv()): ApolloServerPlugin<OperationContext> {
  let recorder: UsageRecorder | null = null;
  return {
    async serverWillStart() {
      if (options.path) {
        try {
          recorder = new UsageRecorder(UsageStore.open(options.path), log, {
            flushIntervalMs: options.flushIntervalMs ?? 5_000,
            maxPending: options.maxPending ?? 50_000,
            retentionDays: options.retentionDays ?? DEFAULT_RETENTION_DAYS,
            now: options.now ?? Date.now,
          });
        } catch (error) {
          log.warn('usage store: cannot open it; operations are not recorded', { path: options.path, error: (error as Error).message });
        }
      }
      return {
        async serverWillStop() {
          recorder?.close();
          recorder = null;
        },
      };
    },
    async requestDidStart() {
      if (!recorder) return;
      return {
        async willSendResponse({ contextValue }) {
          const operation = contextValue.operation;
          if (operation && recorder) recorder.record(operation.derive(COORDINATES, usedCoordinates));
        },
      };
    },
  };
}
