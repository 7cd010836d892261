import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { EXAMPLE_QUERY } from './example-query.js';
import type { Persona } from './personas.js';

/** The page's own script and styles (persona bar, docs notes, cost, stored-state repair), read once. */
const EXPLORER_UI_JS = readFileSync(new URL('./page/explorer-ui.js', import.meta.url), 'utf8');
const EXPLORER_UI_CSS = readFileSync(new URL('./page/explorer-ui.css', import.meta.url), 'utf8');

export interface ExplorerPageOptions {
  /** Where the page sends GraphQL requests, relative to the page or absolute (e.g. /graphql, /contracts/partner/graphql). */
  endpoint: string;
  title: string;
  /** Development personas (tokens in the page): only on the development secret, never in production. */
  personas?: Persona[];
  defaultPersona?: string;
  /** Demand control as configured: the page says whether a cost will come back. */
  demandControl?: { enabled: boolean; mode: string; max: number };
  /** The query a browser without stored tabs opens with (default: the cross-domain example). */
  defaultQuery?: string;
}

/** What the page's script reads (a JSON island in the page). */
export interface ExplorerPageConfig {
  endpoint: string;
  title: string;
  exampleQuery: string;
  personas: Persona[] | null;
  defaultPersona: string | null;
  demandControl: { enabled: boolean; mode: string; max: number } | null;
}

/**
 * The explorer: a complete GraphiQL (editor, docs, history) in one self-contained page, with no
 * request to any other host, so it works offline and behind strict firewalls. Around it, the
 * page's own script: a persona switcher (development only) that says what each token grants, field
 * notes in the docs (classification, what a field needs, its data product) from the catalog on the
 * same endpoint, the estimated cost of each run, and a repair of stale stored tabs.
 *
 * The page is ~9 MB, and the module holding GraphiQL's bundle costs a process ~60 MB of resident
 * memory for its whole life once loaded. So the page is rendered and gzipped in a short-lived worker
 * thread whose memory goes when it exits, on first demand: the gateway keeps the gzipped page
 * (~2 MB), and the plain page for a client that does not accept gzip, on demand.
 */
export class ExplorerPage {
  private readonly render: { title: string; configJson: string; uiJs: string; uiCss: string };
  private gzipped: Promise<Buffer> | undefined;
  private html: Buffer | undefined;

  constructor(options: ExplorerPageOptions) {
    const config: ExplorerPageConfig = {
      endpoint: options.endpoint,
      title: options.title,
      exampleQuery: options.defaultQuery ?? EXAMPLE_QUERY,
      personas: options.personas?.length ? options.personas : null,
      defaultPersona: options.personas?.length ? (options.defaultPersona ?? options.personas[0]!.id) : null,
      demandControl: options.demandControl ?? null,
    };
    this.render = { title: escapeHtml(config.title), configJson: scriptJson(config), uiJs: EXPLORER_UI_JS, uiCss: EXPLORER_UI_CSS };
  }

  /**
   * Rendered on the first request for the page, not at start (it was a large share of the
   * gateway's cold start, and API-only deployments never serve it); a failed render is retried.
   */
  private page(): Promise<Buffer> {
    this.gzipped ??= renderInWorker(this.render).catch((error: unknown) => {
      this.gzipped = undefined;
      throw error;
    });
    return this.gzipped;
  }

  async body(acceptEncoding: string | undefined): Promise<{ body: Buffer; encoding?: string }> {
    const gzipped = await this.page();
    if (acceptEncoding && /\bgzip\b/.test(acceptEncoding)) return { body: gzipped, encoding: 'gzip' };
    this.html ??= gunzipSync(gzipped);
    return { body: this.html };
  }
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The worker's whole program, plain JavaScript so it runs the same from TypeScript sources or a
 * build: @graphql-yoga/render-graphiql's parts (its bundle, styles and workers as Blob URLs), laid
 * out as its own template does, plus the explorer's bar and script. Ours rather than its template
 * because GraphiQL takes functions (a namespaced storage) that a JSON template cannot pass.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { gzipSync } = require('node:zlib');
import(workerData.module).then(({ css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker }) => {
  const { title, configJson, uiJs, uiCss } = workerData;
  const html = \`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>\${title}</title>
    <link rel="icon" href="\${favicon}" />
    <style>\${css}</style>
    <style>\${uiCss}</style>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <header id="explorer-bar" aria-label="Explorer settings"></header>
    <div id="root"></div>
    <script type="application/json" id="explorer-config">\${configJson}</script>
    <script>
      function prepareBlob(workerContent) {
        return URL.createObjectURL(new Blob([workerContent], { type: 'application/javascript' }));
      }
      const workers = {
        editorWorkerService: prepareBlob(\${JSON.stringify(editorWorkerService)}),
        json: prepareBlob(\${JSON.stringify(jsonWorker)}),
        graphql: prepareBlob(\${JSON.stringify(graphqlWorker)}),
      };
      self['MonacoEnvironment'] = { globalAPI: false, getWorkerUrl: (moduleId, label) => workers[label] };
      \${js};
    </script>
    <script>\${uiJs}</script>
  </body>
</html>
\`;
  const page = gzipSync(Buffer.from(html));
  const bytes = page.buffer.slice(page.byteOffset, page.byteOffset + page.byteLength);
  parentPort.postMessage(bytes, [bytes]);
});
`;

function renderInWorker(data: { title: string; configJson: string; uiJs: string; uiCss: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // No --import hooks (tsx) needed in there: the program is JavaScript and imports a package.
    const module = import.meta.resolve('@graphql-yoga/render-graphiql/graphiql');
    const worker = new Worker(WORKER, { eval: true, workerData: { module, ...data }, execArgv: [] });
    worker.once('message', (bytes: ArrayBuffer) => resolve(Buffer.from(bytes)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the explorer page's renderer exited (code ${code}) without a page`)));
  });
}
