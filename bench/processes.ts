/**
 * Child processes for the benchmark: free ports, spawning with logs to a file, readiness, stopping,
 * and CPU / memory measured from /proc (so it works the same for any gateway, in any language).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on the loopback, never one of the mesh's fixed ports (4000–4005). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (port < 4000 || port > 4005) return port;
  }
}

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  logFile: string;
  /** Last lines of its output, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

export function spawnChild(name: string, command: string, args: string[], options: { env?: Record<string, string>; cwd?: string; logFile: string }): Child {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recent: string[] = [];
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    recent.push(chunk.toString('utf8'));
    if (recent.length > 40) recent.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${command}`);
  return {
    name,
    process: child,
    pid: child.pid,
    logFile: options.logFile,
    tail: () => recent.join('').split('\n').slice(-15).join('\n'),
    stop: () => stopProcess(child).finally(() => log.end()),
  };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls `probe` until it resolves true; fails early if the child exits. */
export async function waitUntil(child: Child, what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited during start (${child.process.signalCode ?? `code ${child.process.exitCode}`}):\n${child.tail()}\n(full log: ${child.logFile})`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} was not ${what} within ${timeoutMs / 1000}s:\n${child.tail()}\n(full log: ${child.logFile})`);
}

// ---------------------------------------------------------------------------------------------
// /proc sampling

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export const procAvailable = () => existsSync('/proc/self/stat');

/** The process and all its descendants (a gateway may fork workers). */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const taskDir = `/proc/${all[i]}/task`;
    let tids: string[] = [];
    try {
      tids = readdirSync(taskDir);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const children = readFileSync(`${taskDir}/${tid}/children`, 'utf8').trim();
        if (children) all.push(...children.split(/\s+/).map(Number));
      } catch {
        /* thread or process gone */
      }
    }
  }
  return all;
}

/** CPU seconds (user + system) used so far by the processes and their descendants. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const root of pids) {
    for (const pid of processTree(root)) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        /* gone */
      }
    }
  }
  return ticks / ticksPerSecond();
}

/** CPU seconds the whole machine has spent busy (all cores, from /proc/stat). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / ticksPerSecond();
}

/** Resident memory in bytes (current, and the kernel's high-water mark), summed over the tree. */
export function memory(pid: number): { rss: number; hwm: number } {
  let rss = 0;
  let hwm = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      hwm += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      /* gone */
    }
  }
  return { rss, hwm };
}

/** Samples a process tree's RSS every `intervalMs` and keeps the peak since the last reset. */
export class MemorySampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  private sample() {
    this.peak = Math.max(this.peak, memory(this.pid).rss);
  }

  /** Peak RSS since the last call, then starts a new window. */
  takePeak(): number {
    this.sample();
    const peak = this.peak;
    this.peak = memory(this.pid).rss;
    return peak;
  }

  stop() {
    clearInterval(this.timer);
  }
}
