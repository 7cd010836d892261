import { gunzipSync } from 'node:zlib';
import { Worker } from 'node:worker_threads';
import { EXAMPLE_QUERY } from './example-query.js';

/**
 * The explorer: a complete GraphiQL (editor, docs, history) in one self-contained page, with no
 * request to any other host, so it works offline and behind strict firewalls. The page is ~9 MB,
 * and the module that renders it costs the process ~60 MB of resident memory once loaded (its
 * bundle stays in the heap for the process's life). So it is rendered and gzipped once, at start,
 * in a short-lived worker thread whose memory goes when it exits: the gateway keeps only the
 * gzipped page (~2 MB), and the plain page for a client that does not accept gzip, on demand.
 */
export class ExplorerPage {
  private readonly gzipped: Promise<Buffer>;
  private html: Buffer | undefined;

  constructor(options: { endpoint: string; title: string; headers?: Record<string, string> }) {
    const renderOptions = {
      endpoint: options.endpoint,
      title: options.title,
      defaultQuery: EXAMPLE_QUERY,
      headers: options.headers ? JSON.stringify(options.headers, null, 2) : undefined,
      shouldPersistHeaders: true,
    };
    this.gzipped = renderInWorker(import.meta.resolve('@graphql-yoga/render-graphiql'), renderOptions);
    // A failed render surfaces on the first request for the page, never as an unhandled rejection.
    this.gzipped.catch(() => {});
  }

  async body(acceptEncoding: string | undefined): Promise<{ body: Buffer; encoding?: string }> {
    const gzipped = await this.gzipped;
    if (acceptEncoding && /\bgzip\b/.test(acceptEncoding)) return { body: gzipped, encoding: 'gzip' };
    this.html ??= gunzipSync(gzipped);
    return { body: this.html };
  }
}

/** The worker's whole program: plain JavaScript, so it runs the same from TypeScript sources or a build. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { gzipSync } = require('node:zlib');
import(workerData.module).then(({ renderGraphiQL }) => {
  const page = gzipSync(Buffer.from(renderGraphiQL(workerData.options)));
  const bytes = page.buffer.slice(page.byteOffset, page.byteOffset + page.byteLength);
  parentPort.postMessage(bytes, [bytes]);
});
`;

function renderInWorker(module: string, options: Record<string, unknown>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // No --import hooks (tsx) needed in there: the program is JavaScript and imports a package.
    const worker = new Worker(WORKER, { eval: true, workerData: { module, options }, execArgv: [] });
    worker.once('message', (bytes: ArrayBuffer) => resolve(Buffer.from(bytes)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the explorer page's renderer exited (code ${code}) without a page`)));
  });
}
