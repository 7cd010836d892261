import { ConfigError } from '../config/config-error.js';

/**
 * Persisted query manifests served over HTTP (`persisted_queries.manifest_urls`): every gateway of
 * a fleet reads the same manifest, so an id a client sends means the same operation whichever
 * gateway the load balancer picks. Fetched once at start, under a deadline and a size bound; a
 * manifest that cannot be fetched stops the start (a safelist without its manifest would refuse
 * every client), naming the URL (without its credentials or query string).
 */
export interface FetchedManifest {
  /** The URL as shown in errors: origin and path only. */
  source: string;
  text: string;
}

export const MANIFEST_FETCH_TIMEOUT_MS = 10_000;
export const MANIFEST_MAX_BYTES = 32 * 1024 * 1024;

const KEY = 'persisted_queries.manifest_urls';

export async function fetchManifests(
  urls: readonly string[],
  options: { timeoutMs?: number; maxBytes?: number; file?: string } = {},
): Promise<FetchedManifest[]> {
  const { timeoutMs = MANIFEST_FETCH_TIMEOUT_MS, maxBytes = MANIFEST_MAX_BYTES, file = 'gateway settings' } = options;
  return Promise.all(
    urls.map(async (raw, index) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new ConfigError(file, `${KEY}[${index}]`, `${JSON.stringify(raw)} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(file, `${KEY}[${index}]`, `must be an http(s) URL, not ${url.protocol}`);
      const source = `${url.origin}${url.pathname}`;
      // fetch refuses credentials in a URL (and would echo it in its error): they become Basic auth.
      const headers: Record<string, string> = { accept: 'application/json' };
      if (url.username || url.password) {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
        url.username = '';
        url.password = '';
      }
      // No error message carries the URL's query string (it may hold a token).
      const fail = (why: string) => new ConfigError(source, null, `persisted query manifest could not be fetched: ${why.split(url.href).join(source)}`);
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers });
      } catch (error) {
        throw fail((error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw fail(`HTTP ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await response.body?.cancel();
        throw fail(`${declared} bytes is more than the ${maxBytes} allowed`);
      }
      // Counted as it arrives: a server that sends more than it declared (or declares nothing) is cut off.
      const chunks: Uint8Array[] = [];
      let size = 0;
      try {
        for await (const chunk of response.body ?? []) {
          size += chunk.byteLength;
          if (size > maxBytes) throw fail(`more than the ${maxBytes} bytes allowed`);
          chunks.push(chunk);
        }
      } catch (error) {
        await response.body?.cancel().catch(() => {});
        if (error instanceof ConfigError) throw error;
        throw fail((error as Error).name === 'TimeoutError' ? `no complete answer within ${timeoutMs} ms` : (error as Error).message);
      }
      return { source, text: Buffer.concat(chunks).toString('utf8') };
    }),
  );
}
