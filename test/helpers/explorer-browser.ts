import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContextOptions, type Page, type Request } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium; CI installs it (`.ci/run`). Missing = failing tests, never skipped ones. */
export const CHROMIUM = '/usr/bin/chromium';
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

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does this)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface OpenedExplorer {
  page: Page;
  requests: Request[];
  pageErrors: Error[];
  close(): Promise<void>;
}

/**
 * Opens the explorer in a fresh browser context (optionally with a previous session's storage),
 * recording every request it makes (workers included) and every uncaught page error.
 */
export async function openExplorer(browser: Browser, url: string, options: { storageState?: BrowserContextOptions['storageState'] } = {}): Promise<OpenedExplorer> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, storageState: options.storageState });
  const requests: Request[] = [];
  context.on('request', (request) => requests.push(request));
  const page = await context.newPage();
  // Fail with Playwright's own message (what it was waiting for) before the test's timeout.
  page.setDefaultTimeout(60_000);
  const pageErrors: Error[] = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  await page.locator('.graphiql-execute-button').waitFor();
  return { page, requests, pageErrors, close: () => context.close() };
}

/** Every request went to this origin (or stayed inside the page: blob:, data:). */
export function expectOnlyRequestsTo(origin: string, requests: Request[]): void {
  expect(requests.length).toBeGreaterThan(0);
  const elsewhere = requests.map((r) => r.url()).filter((url) => !url.startsWith(`${origin}/`) && !/^(blob|data):/.test(url));
  expect(elsewhere).toEqual([]);
}

/** The text of a Monaco editor's rendered lines, in line order. */
export async function editorText(page: Page, selector: string): Promise<string> {
  return page.locator(`${selector} .view-lines`).evaluate((element) =>
    [...element.querySelectorAll<HTMLElement>('.view-line')]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((line) => line.textContent!.replace(/\u00a0/g, ' '))
      .join('\n'),
  );
}

export interface ImageStats {
  width: number;
  height: number;
  /** Distinct RGB colours. */
  colours: number;
  /** The most frequent colour and its share of the pixels. */
  dominant: { rgb: [number, number, number]; share: number };
}

/** Decodes a PNG screenshot with Chromium itself (a canvas in a blank page) and counts its colours. */
export async function imageStats(browser: Browser, png: Buffer): Promise<ImageStats> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      let top = 0;
      let topCount = 0;
      for (const [key, count] of counts) if (count > topCount) [top, topCount] = [key, count];
      return {
        width: image.width,
        height: image.height,
        colours: counts.size,
        dominant: { rgb: [(top >> 16) & 255, (top >> 8) & 255, top & 255] as [number, number, number], share: topCount / (data.length / 4) },
      };
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}

/** The claims of a JWT (not verified: the gateway does that; tests read what the page sent). */
export function jwtClaims(authorization: string | undefined): Record<string, unknown> | null {
  const token = authorization?.replace(/^Bearer /, '');
  if (!token) return null;
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
