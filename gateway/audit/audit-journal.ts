import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEventInput } from './audit-store.js';

/**
 * The write-ahead journal in front of the audit store: each event is appended (one `write`, so it
 * is in the operating system before the response leaves; `fsync: true` also forces it to disk) to
 * a file of this process's own, and moved into SQLite in batches off the request path. A process
 * killed with SIGKILL leaves its journal behind, and the next one to open the store replays it.
 *
 * A journal's name says whose it is: `<pid>-<process start time>-<random>.jsonl`. The start time
 * tells a live process from a dead one whose pid was reused (e.g. pid 1 in a container).
 */
export class AuditJournal {
  readonly file: string;
  private fd: number | null;

  constructor(
    readonly dir: string,
    private readonly fsync: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${process.pid}-${startTimeOf(process.pid) ?? 'x'}-${randomBytes(4).toString('hex')}.jsonl`);
    this.fd = openSync(this.file, 'a');
  }

  /** Durable against the process being killed once this returns. */
  append(event: AuditEventInput): void {
    if (this.fd === null) throw new Error('audit journal is closed');
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    if (this.fsync) fdatasyncSync(this.fd);
  }

  /** Everything appended so far is in the store. */
  clear(): void {
    if (this.fd !== null) ftruncateSync(this.fd, 0);
  }

  /** Closes the file; removes it when everything in it is in the store. */
  close(stored: boolean): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    if (stored) unlinkSync(this.file);
  }

  /**
   * The journals in `dir` that no live process writes any more (left by a killed gateway), with
   * the events they hold. A truncated last line (the process died mid-write) is skipped.
   */
  static orphans(dir: string, except?: string): { file: string; events: AuditEventInput[] }[] {
    if (!existsSync(dir)) return [];
    const out: { file: string; events: AuditEventInput[] }[] = [];
    for (const name of readdirSync(dir)) {
      const match = /^(\d+)-([^-]+)-[0-9a-f]+\.jsonl$/.exec(name);
      const file = join(dir, name);
      if (!match || file === except || isAlive(Number(match[1]), match[2]!)) continue;
      const events: AuditEventInput[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          events.push(JSON.parse(line) as AuditEventInput);
        } catch {
          // An incomplete last line: the write never returned, so no response waited on it.
        }
      }
      out.push({ file, events });
    }
    return out;
  }
}

/** A process's start time (clock ticks since boot, from /proc); null where /proc is not available. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number, startTime: string): boolean {
  const current = startTimeOf(pid);
  if (current !== null) return current === startTime;
  if (startTime !== 'x' && existsSync('/proc/self/stat')) return false; // /proc works, the pid is gone
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
