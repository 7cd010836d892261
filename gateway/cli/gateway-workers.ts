import cluster, { type Worker } from 'node:cluster';
import { entryPoint } from '../../subgraphs/mesh/entry-point.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';

/**
 * `npm run gateway -- --workers N`: N gateway processes on one machine sharing one port
 * (node:cluster; the primary accepts connections and hands them to the workers in turn). The
 * primary serves nothing itself and loads no supergraph: it forks the workers, restarts one that
 * dies, and passes SIGTERM / SIGINT (graceful shutdown: each worker drains its requests) and SIGHUP
 * (reload) to all of them. Every worker is a complete gateway with its own /health and /ready.
 */

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  type: 'gateway-ready';
  line: string;
}

const log = createLogger('gateway-primary');

/** In a worker: tells the primary it is ready (the line the primary prints once all are). */
export function announceWorkerReady(line: string): void {
  process.send?.({ type: 'gateway-ready', line } satisfies WorkerReady);
}

export function runPrimary(workers: number): void {
  // The workers run this CLI again (cluster re-runs the entry point), in the form this one runs in.
  const entry = entryPoint('./gateway.ts', import.meta.url);
  const execArgv = entry.execArgv.every((arg) => process.execArgv.includes(arg)) ? process.execArgv : [...process.execArgv, ...entry.execArgv];
  cluster.setupPrimary({ exec: entry.file, args: process.argv.slice(2), execArgv });

  let stopping = false;
  let exitCode = 0;
  let started = false;
  const ready = new Set<number>();
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: WorkerReady) => {
      if (message?.type !== 'gateway-ready') return;
      ready.add(worker.id);
      if (started) return log.warn('gateway worker restarted', { pid: worker.process.pid });
      if (ready.size === workers) {
        started = true;
        // The single-process line, with the worker count: supervisors and tests wait on it.
        console.log(`${message.line} with ${workers} workers (pids ${Object.values(cluster.workers ?? {}).map((w) => w?.process.pid).join(', ')})`);
      }
    });
    return worker;
  };

  cluster.on('exit', (worker: Worker, code, signal) => {
    const wasReady = ready.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    // A worker that fails before it ever served (bad settings, port in use) would fail again: stop.
    if (!started && !wasReady) {
      log.error('gateway worker failed to start; stopping', { pid: worker.process.pid, code, signal });
      return void stopAll(1);
    }
    log.warn('gateway worker exited; starting a new one', { pid: worker.process.pid, code, signal });
    // One that dies again before it is ready (e.g. a subgraph URL it cannot resolve yet) is retried each second, not in a hot loop.
    setTimeout(() => stopping || fork(), wasReady ? 0 : 1000);
  });

  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    if (alive.length === 0) process.exit(code);
    // Each worker drains and exits on SIGTERM (its own handler); the primary exits after the last.
    for (const worker of alive) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', () => stopAll(0));
  process.once('SIGINT', () => stopAll(0));
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });

  for (let i = 0; i < workers; i++) fork();
}
