import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One sensitive read, as the gateway records it (never the token: the subject only). */
export interface AuditEventInput {
  /** Unique per event, assigned when recorded: replaying a journal twice stores it once. */
  id: string;
  /** ISO-8601 instant the response was sent. */
  at: string;
  /** The token's subject; null for an anonymous caller. */
  subject: string | null;
  /** X-Data-Purpose ('' when none). */
  purpose: string;
  operationName: string | null;
  /** SHA-256 of the operation's text (Apollo's query hash). */
  operationHash: string | null;
  /** Sensitive coordinates (PII, CONFIDENTIAL or RESTRICTED) whose values the response returned. */
  coordinates: string[];
  /** Objects in the response that carried at least one of those values. */
  rowCount: number;
  masked: boolean;
  /** The coordinates among `coordinates` whose values were masked. */
  maskedCoordinates: string[];
  /** What else the read was about (e.g. the data subject of a subject access report). */
  details: Record<string, unknown> | null;
}

export interface AuditEvent extends AuditEventInput {
  /** Position in the chain: 1, 2, 3… without gaps. */
  seq: number;
  previousHash: string;
  hash: string;
}

export interface AuditQuery {
  first: number;
  /** A seq (the previous page's endCursor): events after it. */
  after?: number | null;
  subject?: string | null;
  /** ISO-8601 instant: events at or after it. */
  since?: string | null;
}

export interface VerifyProblem {
  seq: number | null;
  id: string | null;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  head: { seq: number; hash: string } | null;
  problems: VerifyProblem[];
}

export const GENESIS_HASH = '0'.repeat(64);
const MAX_PROBLEMS = 100;

/**
 * The canonical text an event's hash covers: every field, in a fixed order, and the previous
 * event's hash, so changing, removing or reordering any event breaks every hash after it.
 */
export function eventHash(previousHash: string, seq: number, e: AuditEventInput): string {
  const canonical = JSON.stringify([seq, e.id, e.at, e.subject, e.purpose, e.operationName, e.operationHash, e.coordinates, e.rowCount, e.masked, e.maskedCoordinates, e.details]);
  return createHash('sha256').update(previousHash).update('\n').update(canonical).digest('hex');
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    subject TEXT,
    purpose TEXT NOT NULL,
    operation_name TEXT,
    operation_hash TEXT,
    coordinates TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    masked INTEGER NOT NULL,
    masked_coordinates TEXT NOT NULL,
    details TEXT,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS audit_events_subject ON audit_events (subject, seq);
  -- The chain's tip, written in the same transaction as the events: removing events from the end
  -- leaves it pointing past them.
  CREATE TABLE IF NOT EXISTS audit_head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
  CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
  CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
`;

interface Row {
  seq: number;
  id: string;
  at: string;
  subject: string | null;
  purpose: string;
  operation_name: string | null;
  operation_hash: string | null;
  coordinates: string;
  row_count: number;
  masked: number;
  masked_coordinates: string;
  details: string | null;
  previous_hash: string;
  hash: string;
}

/**
 * The durable, append-only, hash-chained store of audit events: one SQLite file (WAL), safe to
 * share between gateway processes (each batch is one IMMEDIATE transaction that reads the chain's
 * tip inside it) and readable while they write (`npm run audit -- verify`).
 */
export class AuditStore {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<AuditStore['prepare']>;
  private readonly appendTransaction: Database.Transaction<(events: readonly AuditEventInput[]) => number> | null;

  private constructor(readonly path: string, readonly readonly: boolean) {
    if (!readonly) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { readonly, fileMustExist: readonly, timeout: 10_000 });
    if (!readonly) {
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit is in the OS before it returns (a killed process loses nothing);
      // the write-ahead journal in front of it carries the same guarantee per event.
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
    }
    this.statements = this.prepare();
    this.appendTransaction = readonly ? null : this.db.transaction((events: readonly AuditEventInput[]) => this.appendEvents(events));
  }

  static open(path: string, { readonly = false }: { readonly?: boolean } = {}): AuditStore {
    return new AuditStore(path, readonly);
  }

  private prepare() {
    return {
      tip: this.db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1'),
      insert: this.readonly
        ? null
        : this.db.prepare(
            `INSERT INTO audit_events (seq, id, at, subject, purpose, operation_name, operation_hash, coordinates, row_count, masked, masked_coordinates, details, previous_hash, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING`,
          ),
      head: this.db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE one = 1'),
      setHead: this.readonly ? null : this.db.prepare('INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'),
      page: this.db.prepare<[{ after: number; subject: string | null; since: string | null; limit: number }], Row>(
        `SELECT * FROM audit_events WHERE seq > @after AND (@subject IS NULL OR subject = @subject) AND (@since IS NULL OR at >= @since) ORDER BY seq LIMIT @limit`,
      ),
      all: this.db.prepare<[], Row>('SELECT * FROM audit_events ORDER BY seq'),
    };
  }

  /**
   * Appends events at the end of the chain, in one transaction. Events whose id is already stored
   * (a journal replayed twice) are skipped. Returns how many were stored.
   */
  append(events: readonly AuditEventInput[]): number {
    if (events.length === 0) return 0;
    if (!this.appendTransaction) throw new Error('the audit store is open read-only');
    return this.appendTransaction.immediate(events);
  }

  /** Inside the IMMEDIATE transaction: the chain's tip is read under the write lock. */
  private appendEvents(events: readonly AuditEventInput[]): number {
    const s = this.statements;
    const tip = s.tip.get();
    let seq = tip?.seq ?? 0;
    let previous = tip?.hash ?? GENESIS_HASH;
    let stored = 0;
    for (const e of events) {
      const hash = eventHash(previous, seq + 1, e);
      // An id already stored (a journal replayed twice) is ignored, and the chain does not move.
      const { changes } = s.insert!.run(
        seq + 1,
        e.id,
        e.at,
        e.subject,
        e.purpose,
        e.operationName,
        e.operationHash,
        JSON.stringify(e.coordinates),
        e.rowCount,
        e.masked ? 1 : 0,
        JSON.stringify(e.maskedCoordinates),
        e.details === null ? null : JSON.stringify(e.details),
        previous,
        hash,
      );
      if (changes === 0) continue;
      seq++;
      previous = hash;
      stored++;
    }
    if (stored) s.setHead!.run(seq, previous);
    return stored;
  }

  /** A page of events in chain order; one more is read to know whether another page follows. */
  query(q: AuditQuery): { events: AuditEvent[]; hasNextPage: boolean } {
    const rows = this.statements.page.all({ after: q.after ?? 0, subject: q.subject ?? null, since: q.since ?? null, limit: q.first + 1 });
    return { events: rows.slice(0, q.first).map(fromRow), hasNextPage: rows.length > q.first };
  }

  /**
   * Walks the whole chain: every event's hash must match its content and the previous event's
   * hash, seq must run 1, 2, 3… without gaps, and the head record must point at the last event.
   */
  verify(): VerifyReport {
    const problems: VerifyProblem[] = [];
    const report = (seq: number | null, id: string | null, problem: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push({ seq, id, problem });
    };
    let expectedSeq = 1;
    let previous = GENESIS_HASH;
    let count = 0;
    let last: { seq: number; hash: string } | null = null;
    for (const row of this.statements.all.iterate()) {
      count++;
      let event: AuditEvent | null = null;
      try {
        event = fromRow(row);
      } catch {
        report(row.seq, row.id, 'unreadable: a JSON column was edited');
      }
      if (row.seq !== expectedSeq) report(row.seq, row.id, row.seq > expectedSeq ? `events ${expectedSeq}…${row.seq - 1} are missing (deleted)` : `seq ${row.seq} is out of order`);
      if (row.previous_hash !== previous) report(row.seq, row.id, "previous_hash does not match the preceding event's hash (an event before it was changed or removed)");
      if (event && eventHash(row.previous_hash, row.seq, event) !== row.hash) report(row.seq, row.id, 'hash does not match the content: the event was edited');
      expectedSeq = row.seq + 1;
      previous = row.hash;
      last = { seq: row.seq, hash: row.hash };
    }
    const head = this.statements.head.get() ?? null;
    if (head && (!last || head.seq !== last.seq || head.hash !== last.hash)) {
      report(head.seq, null, last && head.seq > last.seq ? `the head record says ${head.seq} events, the chain ends at ${last.seq}: events were deleted from the end` : `the head record (seq ${head.seq}) does not match the last event (seq ${last?.seq ?? 0})`);
    } else if (!head && last) {
      report(null, null, 'the head record is missing');
    }
    return { ok: problems.length === 0, events: count, head, problems };
  }

  /** The chain's tip: the last event's seq and hash (null when empty). */
  head(): { seq: number; hash: string } | null {
    return this.statements.head.get() ?? null;
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(row: Row): AuditEvent {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at,
    subject: row.subject,
    purpose: row.purpose,
    operationName: row.operation_name,
    operationHash: row.operation_hash,
    coordinates: JSON.parse(row.coordinates) as string[],
    rowCount: row.row_count,
    masked: row.masked === 1,
    maskedCoordinates: JSON.parse(row.masked_coordinates) as string[],
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}
