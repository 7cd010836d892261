import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { gzipSync } from 'node:zlib';
import { EXAMPLE_QUERY } from './example-query.js';

/**
 * The explorer: a complete GraphiQL (editor, docs, history) in one self-contained page, with no
 * request to any other host, so it works offline and behind strict firewalls. Rendered once at
 * start (it is ~9 MB) and gzipped once, on first demand.
 */
export class ExplorerPage {
  readonly html: Buffer;
  private gzipped: Buffer | undefined;

  constructor(options: { endpoint: string; title: string; headers?: Record<string, string>; defaultQuery?: string }) {
    this.html = Buffer.from(
      renderGraphiQL({
        endpoint: options.endpoint,
        title: options.title,
        defaultQuery: options.defaultQuery ?? EXAMPLE_QUERY,
        headers: options.headers ? JSON.stringify(options.headers, null, 2) : undefined,
        shouldPersistHeaders: true,
      }),
    );
  }

  body(acceptEncoding: string | undefined): { body: Buffer; encoding?: string } {
    if (!acceptEncoding || !/\bgzip\b/.test(acceptEncoding)) return { body: this.html };
    this.gzipped ??= gzipSync(this.html);
    return { body: this.gzipped, encoding: 'gzip' };
  }
}
