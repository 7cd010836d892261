import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runMain as runCliMain } from '../../gateway/cli/run-cli.js';
import type { CliMain } from '../../subgraphs/mesh/cli-args.js';

/** The repository root: CLIs run from here, as a user would run `npm run …`. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How long one of our CLIs may take to start (or to run to completion) on a loaded 2-core machine,
 * where `node --import tsx` alone can take many seconds. A backstop against a hung process, never a
 * measurement: every wait ends on the process's own output or exit as soon as it comes.
 */
export const CLI_TIMEOUT_MS = 120_000;

/**
 * The timeout of a test (or hook) that runs real processes: several CLI runs on a loaded machine,
 * and above CLI_TIMEOUT_MS, so a helper's own error (with the process's output) comes first.
 */
export const PROCESS_TEST_TIMEOUT_MS = 300_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Same as `npx tsx <script>`, without npm's start-up cost: node with tsx's loader. */
function nodeArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', script, ...args];
}

/** Runs one of our CLIs (e.g. `gateway/cli/compose.ts`) to completion. */
export function runCli(script: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs(script, args), { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running CLI (gateway, `npm start`) whose output the test waits on. */
export interface RunningCli {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `pattern` in stdout (waiting for more output as needed). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited (immediately if it already has). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the exit (SIGKILLs after `timeoutMs`, a backstop against a hung shutdown). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `compiled`: a JavaScript file of the build, run with plain node (no tsx), from `cwd`. */
export function startCli(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; compiled?: boolean; cwd?: string } = {}): RunningCli {
  const argv = options.compiled ? [script, ...args] : nodeArgs(script, args);
  const child = spawn(process.execPath, argv, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      notify();
      resolve({ code, signal });
    });
  });
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForOutput(pattern, timeoutMs = CLI_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (match) return done(() => resolve(match));
          if (hasExited()) {
            return done(() => reject(new Error(`process exited (code ${child.exitCode}, signal ${child.signalCode}) before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`)));
          }
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no ${pattern} in output within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    exited: () => exit,
    async stop(signal = 'SIGTERM', timeoutMs = CLI_TIMEOUT_MS) {
      if (!hasExited()) {
        const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.kill(signal);
        await exit;
        clearTimeout(kill);
      }
      return exit;
    },
  };
}

/**
 * Where the test picks ports for processes it starts: below Linux's ephemeral range (32768–60999,
 * net.ipv4.ip_local_port_range), which every outgoing connection on the machine draws its local
 * port from. A port chosen in that range can be taken by some other connection between the check
 * and the child's listen (seen under load: "port … is already in use"); below it, only a listen can.
 */
const PICK_FROM = 20_000;
const PICK_BELOW = 32_768;

/** Tries to bind the port and releases it: whether it was free. */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** An OS-assigned port that was free a moment ago (the fallback: bound to port 0 and released). */
async function ephemeralPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port that was free a moment ago, for a process this test starts (see PICK_FROM). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return freePortRange(1, host);
}

/**
 * Whether something accepts TCP connections on the port right now: a closed port refuses at once;
 * the timeout only guards against a connect that never settles (generous: this process may be starved).
 */
export function acceptsConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(30_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `count` consecutive ports that are all free (for `--subgraph-port-base`), see PICK_FROM. */
export async function freePortRange(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    // Random: the other test files running meanwhile pick theirs the same way.
    const base = attempt < 50 ? PICK_FROM + Math.floor(Math.random() * (PICK_BELOW - PICK_FROM - count)) : await ephemeralPort(host);
    if (base + count > 65_535) continue;
    let allFree = true;
    for (let i = 0; i < count && allFree; i++) allFree = await canBind(base + i, host);
    if (allFree) return base;
  }
  throw new Error(`found no ${count} consecutive free ports`);
}

/**
 * Runs a CLI's main (its exported `main(args, io)`) in this process, as `runCli` runs the process:
 * its exit code and what it printed, without the seconds of a process start through tsx.
 */
export async function runMain(main: CliMain, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  // The io functions return nothing, as the process's do (a main may `return io.out(…)`).
  const io = {
    out: (line: string) => {
      stdout += `${line}\n`;
    },
    err: (line: string) => {
      stderr += `${line}\n`;
    },
  };
  const code = await runCliMain(main, args, io);
  return { code, signal: null, stdout, stderr };
}
