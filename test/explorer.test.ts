import { existsSync } from 'node:fs';
import { parse, print } from 'graphql';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_QUERY } from '../gateway/explorer/example-query.js';
import { startMesh, type TestMesh } from './helpers/mesh.js';

/** Debian's Chromium; CI installs it (`.ci/run`). Missing = failing tests, never skipped ones. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let mesh: TestMesh;
beforeAll(async () => {
  mesh = await startMesh();
});
afterAll(() => mesh?.close());

/**
 * The references in a page that make a browser fetch something: attributes (src, href, action…),
 * CSS `url(…)` and `@import`, JS `import(…)`/`from "…"`, workers, `importScripts`, `fetch`, source
 * maps. Returns those that point at another host (`http(s)://host…` or protocol-relative
 * `//host…`), localhost excepted.
 *
 * Bare URL strings elsewhere do not count: GraphiQL's bundle necessarily contains XML namespaces
 * (`http://www.w3.org/2000/svg`), JSON-schema ids and links in licence comments and help texts,
 * none of which is ever requested. The browser test below checks the real guarantee: every request
 * Chromium makes goes to the gateway.
 */
function externalReferences(html: string): string[] {
  const q = `\\\\?["'\`]?`; // an optional (possibly escaped) quote
  const patterns = [
    new RegExp(`\\b(?:src|srcset|href|action|formaction|poster|background|manifest|data|xlink:href)\\s*=\\s*${q}\\s*([^"'\`\\s>\\\\]+)`, 'gi'),
    new RegExp(`\\burl\\(\\s*${q}\\s*([^"'\`)\\s\\\\]+)`, 'gi'),
    new RegExp(`@import\\s+(?:url\\()?\\s*${q}([^"'\`)\\s;\\\\]+)`, 'gi'),
    new RegExp(`\\bimport\\s*\\(\\s*${q}([^"'\`)\\\\]+)`, 'g'),
    new RegExp(`\\b(?:from|import)\\s*\\\\?["'\`]((?:https?:)?//[^"'\`\\\\]+)`, 'g'),
    new RegExp(`\\b(?:importScripts|fetch|(?:Shared)?Worker|EventSource|WebSocket|sendBeacon)\\s*\\(\\s*${q}([^"'\`)\\\\]+)`, 'g'),
    /\bsourceMappingURL=(\S+)/g,
  ];
  const external = new Set<string>();
  for (const pattern of patterns) {
    for (const match of html.matchAll(pattern)) {
      const target = match[1]!.trim();
      const host = target.match(/^(?:(?:https?|wss?):)?\/\/([^/:?#'"`\s]+)/i)?.[1];
      if (host && !/^(localhost|127\.0\.0\.1|\[::1\])$/i.test(host)) external.add(target);
    }
  }
  return [...external];
}

async function fetchExplorer(path: string, headers: Record<string, string> = {}) {
  return fetch(`${mesh.gateway.url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...headers } });
}

describe('the explorer page (what the gateway sends)', () => {
  it('serves the same self-contained GraphiQL page for a browser GET of / and /graphql', async () => {
    const [root, graphql] = await Promise.all([fetchExplorer('/'), fetchExplorer('/graphql')]);
    for (const response of [root, graphql]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    }
    const html = await root.text();
    expect(await graphql.text()).toBe(html);
    expect(html).toMatch(/<title>Data Mesh Explorer<\/title>/);
    // The whole GraphiQL bundle is inline: no <script src> or <link rel=stylesheet href> at all.
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*rel=["']?stylesheet/i);
    // The example query is pre-filled (embedded as a JSON string).
    expect(html).toContain(JSON.stringify(EXAMPLE_QUERY).slice(1, -1));
  });

  it('compresses the 9 MB page for browsers that accept gzip', async () => {
    const response = await fetchExplorer('/', { 'accept-encoding': 'gzip' });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect((await response.text()).length).toBeGreaterThan(1_000_000);
  });

  it('still answers GraphQL GET requests on /graphql (a ?query= is not a page visit)', async () => {
    const response = await fetchExplorer('/graphql?query=%7B__typename%7D', { 'apollo-require-preflight': 'true' });
    expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('holds no reference that would make a browser contact another host', async () => {
    const html = await (await fetchExplorer('/')).text();
    expect(externalReferences(html)).toEqual([]);
  });

  it('detects each kind of external reference (so the check above is not vacuous)', async () => {
    const html = await (await fetchExplorer('/')).text();
    // It does see the page's own (inline) resources…
    expect(html.match(/url\(\s*["']?data:font\/woff2/g)?.length).toBeGreaterThan(0);
    // …and it flags every way of pulling something from elsewhere.
    const planted = [
      '<script src="https://cdn.jsdelivr.net/npm/graphiql/graphiql.min.js"></script>',
      "<link rel=stylesheet href='//unpkg.com/graphiql/graphiql.css'>",
      '<img src=http://example.com/logo.png>',
      '<style>@font-face{src:url(https://fonts.gstatic.com/x.woff2)} @import "https://fonts.googleapis.com/css";</style>',
      '<script>import("https://esm.sh/react");new Worker("https://cdn.example/worker.js");fetch(\'https://telemetry.example/t\')</script>',
      '<script type=module>import x from "https://esm.sh/monaco-editor";</script>',
      '//# sourceMappingURL=https://cdn.example/app.js.map',
      '<a href="http://localhost:4000/graphql">local</a> <a href="/graphql">relative</a>',
    ].join('\n');
    expect(externalReferences(planted).sort()).toEqual(
      [
        'https://cdn.jsdelivr.net/npm/graphiql/graphiql.min.js',
        '//unpkg.com/graphiql/graphiql.css',
        'http://example.com/logo.png',
        'https://fonts.gstatic.com/x.woff2',
        'https://fonts.googleapis.com/css',
        'https://esm.sh/react',
        'https://cdn.example/worker.js',
        'https://telemetry.example/t',
        'https://esm.sh/monaco-editor',
        'https://cdn.example/app.js.map',
      ].sort(),
    );
  });
});

describe('the explorer in headless Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does this)`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(() => browser?.close());

  /** Opens the explorer in a fresh browser context, recording every request it makes (workers included). */
  async function openExplorer(path = '/'): Promise<{ page: Page; requests: Request[]; pageErrors: Error[] }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 2400 } });
    const requests: Request[] = [];
    context.on('request', (request) => requests.push(request));
    const page = await context.newPage();
    // Fail with Playwright's own message (what it was waiting for) before the test's timeout.
    page.setDefaultTimeout(60_000);
    const pageErrors: Error[] = [];
    page.on('pageerror', (error) => pageErrors.push(error));
    const response = await page.goto(`${mesh.gateway.url}${path}`);
    expect(response?.status()).toBe(200);
    await page.locator('.graphiql-execute-button').waitFor();
    return { page, requests, pageErrors };
  }

  /** Every request went to the gateway itself (or stayed inside the page: blob:, data:). */
  function expectOnlyGatewayRequests(requests: Request[]) {
    expect(requests.length).toBeGreaterThan(0);
    const elsewhere = requests.map((r) => r.url()).filter((url) => !url.startsWith(`${mesh.gateway.url}/`) && !/^(blob|data):/.test(url));
    expect(elsewhere).toEqual([]);
  }

  /** The text of a Monaco editor's rendered lines, in line order. */
  async function editorText(page: Page, selector: string): Promise<string> {
    return page.locator(`${selector} .view-lines`).evaluate((element) =>
      [...element.querySelectorAll<HTMLElement>('.view-line')]
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((line) => line.textContent!.replace(/\u00a0/g, ' '))
        .join('\n'),
    );
  }

  it('opens with the example query in the editor, runs it with the ▶ button and shows the result', async () => {
    const { page, requests, pageErrors } = await openExplorer('/graphql');
    try {
      const editor = page.locator('.graphiql-query-editor');
      await editor.locator('.view-line', { hasText: 'query CustomerOverview' }).waitFor();
      const shown = await editorText(page, '.graphiql-query-editor');
      const shownLines = shown.split('\n');
      expect(shownLines.length).toBeGreaterThanOrEqual(10);
      expect(shownLines).toEqual(EXAMPLE_QUERY.split('\n').slice(0, shownLines.length));

      const executed = page.waitForRequest((r) => r.method() === 'POST' && r.url() === mesh.gateway.graphqlUrl && /CustomerOverview/.test(r.postData() ?? ''));
      await page.getByRole('button', { name: /^Execute query/ }).click();
      const request = await executed;
      // GraphiQL sends the editor's operation (minified, comments dropped): the same document.
      const sent = JSON.parse(request.postData()!) as { query: string; operationName?: string };
      expect(print(parse(sent.query))).toBe(print(parse(EXAMPLE_QUERY)));
      expect(sent.operationName).toBe('CustomerOverview');

      const customer = mesh.database('customers').prepare('SELECT first_name, last_name, region FROM customers WHERE id = 42').get() as {
        first_name: string;
        last_name: string;
        region: string;
      };
      const fullName = `${customer.first_name} ${customer.last_name}`;
      // region is public; fullName is personal data, shown because on the development secret the
      // explorer comes with a development token (see gateway-server.ts).
      await page.locator('.graphiql-response .view-line', { hasText: `"region": "${customer.region}"` }).waitFor();
      const result = await editorText(page, '.graphiql-response');
      expect(result).toContain(`"region": "${customer.region}"`);
      expect(result).toContain(`"fullName": "${fullName}"`);
      expect(pageErrors).toEqual([]);
      expectOnlyGatewayRequests(requests);
    } finally {
      await page.context().close();
    }
  });

  it('opens the docs explorer, which lists the Query type and its fields from the schema', async () => {
    const { page, requests } = await openExplorer('/');
    try {
      await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      const docs = page.locator('.graphiql-doc-explorer');
      await docs.getByText('Root Types').waitFor();
      await expect.poll(() => docs.innerText(), { timeout: 60_000 }).toContain('query: Query');
      await docs.getByRole('link', { name: 'Query', exact: true }).first().click();
      await docs.getByText('customer(id: ID!): Customer').waitFor();
      const text = await docs.innerText();
      expect(text).toContain('One customer by id; null when there is none or the caller may not see it (row-level rules).');
      // Fields of all five domains are on the one Query type.
      for (const field of ['customers(', 'product(', 'order(', 'segments:', 'invoice(']) expect(text).toContain(field);
      expectOnlyGatewayRequests(requests);
    } finally {
      await page.context().close();
    }
  });

  it('makes no request to any other host while the page loads and settles', async () => {
    const { page, requests } = await openExplorer('/');
    try {
      // Wait for what the page must do (introspect the schema from the gateway), then give it a
      // bounded moment to settle: 'networkidle' alone has hung on a loaded 2-core CI machine.
      // Every request recorded up to the checks below is still checked.
      const isIntrospection = (r: Request) => r.method() === 'POST' && /IntrospectionQuery/.test(r.postData() ?? '');
      await expect.poll(() => requests.some(isIntrospection), { timeout: 60_000 }).toBe(true);
      await requests.find(isIntrospection)!.response();
      await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
      // The schema was introspected from the gateway, through the page's own origin.
      expect(requests.some((r) => r.method() === 'POST' && r.url() === mesh.gateway.graphqlUrl && /IntrospectionQuery/.test(r.postData() ?? ''))).toBe(true);
      expectOnlyGatewayRequests(requests);
    } finally {
      await page.context().close();
    }
  });
});
