import { gzipSync } from 'node:zlib';
import { EXAMPLE_QUERY } from './example-query.js';

/**
 * The explorer: a complete GraphiQL (editor, docs, history) in one self-contained page, with no
 * request to any other host, so it works offline and behind strict firewalls. The page is ~9 MB
 * and so is the module that renders it: both are loaded on the first request for the page, not at
 * start (they took a large share of the gateway's cold start, and API-only deployments never
 * serve it), then kept: rendered once, gzipped once, on first demand.
 */
export class ExplorerPage {
  private html: Promise<Buffer> | undefined;
  private gzipped: Buffer | undefined;

  constructor(private readonly options: { endpoint: string; title: string; headers?: Record<string, string> }) {}

  private render(): Promise<Buffer> {
    this.html ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) =>
      Buffer.from(
        renderGraphiQL({
          endpoint: this.options.endpoint,
          title: this.options.title,
          defaultQuery: EXAMPLE_QUERY,
          headers: this.options.headers ? JSON.stringify(this.options.headers, null, 2) : undefined,
          shouldPersistHeaders: true,
        }),
      ),
    );
    return this.html;
  }

  async body(acceptEncoding: string | undefined): Promise<{ body: Buffer; encoding?: string }> {
    const html = await this.render();
    if (!acceptEncoding || !/\bgzip\b/.test(acceptEncoding)) return { body: html };
    this.gzipped ??= gzipSync(html);
    return { body: this.gzipped, encoding: 'gzip' };
  }
}
