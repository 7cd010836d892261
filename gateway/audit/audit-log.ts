import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { AuditJournal } from './audit-journal.js';
import { AuditStore, type AuditEventInput, type AuditQuery, type AuditEvent } from './audit-store.js';

export interface AuditSettings {
  enabled: boolean;
  /** The SQLite file; null = $MESH_AUDIT_DB, else <DATA_DIR or ./data>/audit.db. */
  path: string | null;
  /** How often recorded events are moved from the journal into SQLite (ms). */
  flushIntervalMs: number;
  /** fsync the journal after each event (survives power loss, not only a killed process; slower). */
  fsync: boolean;
}

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = { enabled: true, path: null, flushIntervalMs: 1000, fsync: false };

/** Where the audit store lives: the setting, else $MESH_AUDIT_DB, else audit.db in the data directory. */
export function auditPath(path: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = path ?? (env.MESH_AUDIT_DB || join(env.DATA_DIR ?? 'data', 'audit.db'));
  return isAbsolute(chosen) ? chosen : resolve(chosen);
}

/** `MESH_AUDIT_DB=off` turns the audit trail off where the settings file leaves the path unset. */
export const auditOffByEnvironment = (path: string | null, env: NodeJS.ProcessEnv = process.env): boolean => path === null && env.MESH_AUDIT_DB === 'off';

/** The journals of a store: a directory beside it. */
export const journalDir = (storePath: string): string => `${storePath}.journal`;

/**
 * Replays the journals that killed gateways left beside a store (idempotent: an event already
 * stored is skipped), then removes them. Returns how many events were added.
 */
export function recoverJournals(store: AuditStore, except?: string): number {
  let added = 0;
  for (const orphan of AuditJournal.orphans(journalDir(store.path), except)) {
    added += store.append(orphan.events);
    try {
      unlinkSync(orphan.file);
    } catch {
      // Another process recovered it at the same time.
    }
  }
  return added;
}

/**
 * The audit trail's writer. Recording an event is one append to this process's write-ahead journal
 * (a few microseconds, on the request path, before the response is written); a timer moves the
 * recorded events into the hash-chained SQLite store in one transaction per batch, off the request
 * path. A gateway killed in between leaves its journal; the next start (or `npm run audit`)
 * replays it, so no event of a response that was sent is lost.
 */
export class AuditLog {
  private readonly store: AuditStore;
  private readonly journal: AuditJournal;
  private readonly instance = randomBytes(6).toString('hex');
  private queue: AuditEventInput[] = [];
  private sequence = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDelay = 0;
  private failing = false;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly settings: AuditSettings,
    private readonly log: Logger,
  ) {
    this.store = AuditStore.open(path);
    this.journal = new AuditJournal(journalDir(path), settings.fsync);
    const recovered = recoverJournals(this.store, this.journal.file);
    if (recovered) log.warn('audit: recovered events from the journal of a gateway that stopped without flushing', { events: recovered, path });
  }

  static open(settings: AuditSettings, log: Logger): AuditLog {
    return new AuditLog(auditPath(settings.path), settings, log);
  }

  /** Records one event: durable (in the journal) when this returns. */
  record(event: Omit<AuditEventInput, 'id'>): void {
    if (this.closed) return;
    const full: AuditEventInput = { id: `${this.instance}-${++this.sequence}`, ...event };
    this.journal.append(full);
    this.queue.push(full);
    if (this.queue.length >= 512) this.schedule(0);
    else this.schedule(this.settings.flushIntervalMs);
  }

  private schedule(delayMs: number): void {
    // One timer at a time; a full queue only brings the pending flush forward, once.
    if (this.timer && (delayMs > 0 || this.timerDelay === 0)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDelay = delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delayMs);
    this.timer.unref();
  }

  /** Moves every recorded event into the store (one transaction). Safe to call at any time. */
  flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    try {
      this.store.append(batch);
    } catch (error) {
      // Kept in the journal and the queue: retried, and replayed at the next start if need be.
      if (!this.failing) this.log.error('audit: could not write events to the store; retrying', { path: this.path, error: String(error) });
      this.failing = true;
      this.schedule(Math.max(1000, this.settings.flushIntervalMs));
      return;
    }
    if (this.failing) this.log.info('audit: writing to the store again', { path: this.path });
    this.failing = false;
    // Everything in the journal is now in the store (append is synchronous: nothing was recorded meanwhile).
    this.queue = [];
    this.journal.clear();
  }

  /** Events in chain order (what was recorded until now included). */
  query(q: AuditQuery): { events: AuditEvent[]; hasNextPage: boolean } {
    this.flush();
    return this.store.query(q);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    this.journal.close(this.queue.length === 0);
    const head = this.store.head();
    this.log.info('audit: closed', { path: this.path, head: head ? `${head.seq}:${head.hash}` : null });
    this.store.close();
  }
}

