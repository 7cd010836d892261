import { css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker } from '@graphql-yoga/render-graphiql/graphiql';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
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
 * same endpoint, the estimated cost of each run, and a repair of stale stored tabs. Rendered once
 * (it is ~9 MB) and gzipped once, on first demand.
 */
export class ExplorerPage {
  readonly html: Buffer;
  private gzipped: Buffer | undefined;

  constructor(options: ExplorerPageOptions) {
    const config: ExplorerPageConfig = {
      endpoint: options.endpoint,
      title: options.title,
      exampleQuery: options.defaultQuery ?? EXAMPLE_QUERY,
      personas: options.personas?.length ? options.personas : null,
      defaultPersona: options.personas?.length ? (options.defaultPersona ?? options.personas[0]!.id) : null,
      demandControl: options.demandControl ?? null,
    };
    this.html = Buffer.from(renderPage(config));
  }

  body(acceptEncoding: string | undefined): { body: Buffer; encoding?: string } {
    if (!acceptEncoding || !/\bgzip\b/.test(acceptEncoding)) return { body: this.html };
    this.gzipped ??= gzipSync(this.html);
    return { body: this.gzipped, encoding: 'gzip' };
  }
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page: @graphql-yoga/render-graphiql's parts (its bundle, styles and workers as Blob URLs),
 * laid out as its own template does, plus the explorer's bar and script. Ours rather than its
 * template because GraphiQL takes functions (a namespaced storage) that a JSON template cannot pass.
 */
function renderPage(config: ExplorerPageConfig): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(config.title)}</title>
    <link rel="icon" href="${favicon}" />
    <style>${css}</style>
    <style>${EXPLORER_UI_CSS}</style>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <header id="explorer-bar" aria-label="Explorer settings"></header>
    <div id="root"></div>
    <script type="application/json" id="explorer-config">${scriptJson(config)}</script>
    <script>
      function prepareBlob(workerContent) {
        return URL.createObjectURL(new Blob([workerContent], { type: 'application/javascript' }));
      }
      const workers = {
        editorWorkerService: prepareBlob(${JSON.stringify(editorWorkerService)}),
        json: prepareBlob(${JSON.stringify(jsonWorker)}),
        graphql: prepareBlob(${JSON.stringify(graphqlWorker)}),
      };
      self['MonacoEnvironment'] = { globalAPI: false, getWorkerUrl: (moduleId, label) => workers[label] };
      ${js};
    </script>
    <script>${EXPLORER_UI_JS}</script>
  </body>
</html>
`;
}
