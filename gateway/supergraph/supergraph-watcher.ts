import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { loadSupergraphConfig } from '../config/supergraph-config.js';
import { loadSupergraph, type LoadedSupergraph } from './supergraph-source.js';
import { Supergraph } from './supergraph.js';

/** Where the gateway's supergraph comes from, and so what a reload re-reads. */
export interface SupergraphOrigin {
  /** A supergraph SDL file or a supergraph.yaml (recomposed, with the governance rules). */
  path?: string;
  /** A URL serving a supergraph SDL, polled with `If-None-Match` (ETag). */
  url?: string;
  pollIntervalMs?: number;
  routingUrls?: Record<string, string>;
}

export type ReloadOutcome = 'reloaded' | 'unchanged' | 'refused';

/**
 * Hot reload: watches the supergraph's sources (the SDL file; or supergraph.yaml and every schema
 * file it lists; or a URL, polled with ETag) and hands each new, valid supergraph to `apply`. A
 * source that does not load (bad YAML, composition or governance failure, invalid SDL, a URL that
 * fails) is refused with a log line and the current supergraph keeps serving; so is a supergraph
 * `apply` refuses. `reload()` also runs on demand (SIGHUP).
 */
export class SupergraphWatcher {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private etag: string | null = null;
  private running: Promise<ReloadOutcome> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly origin: SupergraphOrigin,
    private current: Supergraph,
    private readonly apply: (next: Supergraph, origin: string) => Promise<void>,
    private readonly log: Logger,
    private readonly onOutcome: (outcome: ReloadOutcome, reason: string) => void = () => {},
  ) {}

  start(): void {
    if (this.origin.path) this.watchFiles();
    if (this.origin.url) {
      const every = this.origin.pollIntervalMs ?? 10_000;
      this.timer = setInterval(() => void this.reload('poll'), every);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers.splice(0)) w.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** Reloads now; concurrent calls coalesce into one more run after the current one. */
  reload(reason: string): Promise<ReloadOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run(reason).finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.reload(reason);
      }
    });
    return this.running;
  }

  private async run(reason: string): Promise<ReloadOutcome> {
    let loaded: LoadedSupergraph | null;
    try {
      loaded = this.origin.url ? await this.fetchUrl(this.origin.url) : await loadSupergraph(this.origin.path!, { routingUrls: this.origin.routingUrls });
    } catch (error) {
      this.log.error('supergraph reload refused: the new supergraph does not load; the current one keeps serving', { reason, error: (error as Error).message });
      this.onOutcome('refused', reason);
      return 'refused';
    } finally {
      // The list of schema files may have changed with supergraph.yaml.
      if (this.origin.path && !this.stopped) this.watchFiles();
    }
    if (!loaded || loaded.supergraph.hash === this.current.hash) {
      this.onOutcome('unchanged', reason);
      return 'unchanged';
    }
    try {
      await this.apply(loaded.supergraph, loaded.origin);
    } catch (error) {
      this.log.error('supergraph reload refused: the gateway could not serve it; the current one keeps serving', { reason, error: (error as Error).message });
      this.onOutcome('refused', reason);
      return 'refused';
    }
    this.log.info('supergraph reloaded', { reason, from: this.current.hash, to: loaded.supergraph.hash, origin: loaded.origin });
    this.current = loaded.supergraph;
    this.onOutcome('reloaded', reason);
    return 'reloaded';
  }

  private async fetchUrl(url: string): Promise<LoadedSupergraph | null> {
    const response = await fetch(url, { headers: this.etag ? { 'if-none-match': this.etag } : {}, signal: AbortSignal.timeout(10_000) });
    if (response.status === 304) return null;
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    const sdl = await response.text();
    const supergraph = Supergraph.fromSdl(sdl);
    this.etag = response.headers.get('etag');
    return { supergraph, origin: url };
  }

  /** Watches the directories of the source files (editors and deploys replace files rather than write them). */
  private watchFiles(): void {
    for (const w of this.watchers.splice(0)) w.close();
    const path = resolve(this.origin.path!);
    const files = new Set([path]);
    if (/\.ya?ml$/i.test(path)) {
      try {
        for (const s of loadSupergraphConfig(path).subgraphs) if (s.schema.kind === 'file') files.add(resolve(s.schema.path));
      } catch {
        // A broken supergraph.yaml is reported by the reload; keep watching the file itself.
      }
    }
    const byDir = new Map<string, Set<string>>();
    for (const f of files) (byDir.get(dirname(f)) ?? byDir.set(dirname(f), new Set()).get(dirname(f))!).add(basename(f));
    for (const [dir, names] of byDir) {
      try {
        const watcher = watch(dir, (_, name) => {
          if (name && names.has(name.toString())) this.soon();
        });
        watcher.unref();
        this.watchers.push(watcher);
      } catch (error) {
        this.log.warn('cannot watch for supergraph changes', { dir, error: (error as Error).message });
      }
    }
  }

  /** Several events arrive for one save: reload once they settle. */
  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload('file changed'), 200);
    this.debounce.unref();
  }
}
