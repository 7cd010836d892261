import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL server for one test run: `initdb` into a temporary directory, `pg_ctl
 * start` on a free port (TCP on 127.0.0.1, its socket in the same directory), one database per
 * domain; stopped and removed at the end. As root, the server runs as the `postgres` user
 * (PostgreSQL refuses to run as root). Durability is off: nothing here outlives the run.
 */
/** Written into the run's data directory by the global setup once the PostgreSQL databases are seeded (or failed to be). */
export const POSTGRES_SEEDED = 'postgres-seeded';
export const POSTGRES_FAILED = 'postgres-failed';

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:PORT/<database> */
  url(database: string): string;
  stop(): void;
}

/** The bin directory of the newest installed PostgreSQL (Debian's layout), or null. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : null;
}

export async function startPostgresCluster(bin: string, databases: readonly string[]): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'data-mesh-pg-'));
  const asRoot = process.getuid?.() === 0;
  const command = (name: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, name), ...args]] : [join(bin, name), args]);
  // Asynchronous while starting: the caller seeds the SQLite files meanwhile (initdb is seconds).
  const run = async (name: string, args: string[]) => {
    await promisify(execFile)(...command(name, args));
  };
  const runSync = (name: string, args: string[]) => execFileSync(...command(name, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  if (asRoot) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres']).toString().trim()));
    chownSync(dir, uid!, gid!);
  }
  const data = join(dir, 'data');
  let started = false;
  const stop = () => {
    try {
      if (started) runSync('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); // throwaway data: no shutdown checkpoint
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    // C locale: text sorts byte by byte, as in SQLite. --no-sync: nothing here must survive a crash.
    await run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0`;
    await run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
    started = true;
    const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    const admin = new pg.Client(url('postgres'));
    await admin.connect();
    try {
      for (const database of databases) await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    return { url, stop };
  } catch (error) {
    stop();
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`could not start a PostgreSQL server for the tests: ${e.stderr?.toString().trim() || e.message}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
