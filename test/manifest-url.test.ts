import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../gateway/config/config-error.js';
import { defaultSettings, type GatewaySettings } from '../gateway/config/gateway-settings.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { fetchManifests } from '../gateway/trusted-documents/manifest-url.js';
import { startMesh, testConfig, type TestMesh } from './helpers/mesh.js';

/**
 * persisted_queries.manifest_urls: N gateways behind a load balancer read one manifest from a URL,
 * so a persisted id means the same operation on each; the fetch has a deadline and a size bound,
 * and a manifest that cannot be had stops the start naming the URL (never its credentials).
 */
const CATEGORIES = 'query Categories { categories { id name } }';
const MANIFEST = JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'categories-v1', name: 'Categories', type: 'query', body: CATEGORIES }] });

let server: Server;
let base: string;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/private.json' && req.headers.authorization === `Basic ${Buffer.from('user:secret').toString('base64')}`) return res.writeHead(200).end(MANIFEST);
    if (req.url === '/manifest.json') return res.writeHead(200, { 'content-type': 'application/json' }).end(MANIFEST);
    // Chunked, no content-length: the bound is counted as the body arrives.
    if (req.url === '/endless.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      return pump();
    }
    if (req.url === '/silent.json') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('persisted query manifests from a URL', () => {
  it('fetches a manifest over HTTP', async () => {
    const [manifest] = await fetchManifests([`${base}/manifest.json`]);
    expect(manifest).toEqual({ source: `${base}/manifest.json`, text: MANIFEST });
  });

  it("sends a URL's credentials as Basic authorization", async () => {
    const [manifest] = await fetchManifests([`http://user:secret@127.0.0.1:${new URL(base).port}/private.json`]);
    expect(manifest).toEqual({ source: `${base}/private.json`, text: MANIFEST });
  });

  it('names the URL without its credentials or query when the manifest is missing', async () => {
    const url = `http://user:secret@127.0.0.1:${new URL(base).port}/missing.json?token=hidden`;
    const error = await fetchManifests([url]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${base}/missing.json: persisted query manifest could not be fetched: HTTP 404`);
    expect((error as Error).message).not.toMatch(/secret|hidden|user/);
  });

  it('stops reading past the size bound', async () => {
    await expect(fetchManifests([`${base}/endless.json`], { maxBytes: 1024 * 1024 })).rejects.toThrow(/more than the 1048576 bytes allowed/);
  });

  it('gives up on a server that does not answer within the deadline', async () => {
    await expect(fetchManifests([`${base}/silent.json`], { timeoutMs: 1_000 })).rejects.toThrow(/silent\.json: persisted query manifest could not be fetched: no answer within 1000 ms/);
  });

  it('refuses a URL that is not http(s), naming the setting', async () => {
    await expect(fetchManifests(['file:///etc/passwd'])).rejects.toThrow(/persisted_queries\.manifest_urls\[0\]: must be an http\(s\) URL/);
  });
});

describe('two gateways, one manifest URL', () => {
  let mesh: TestMesh;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await mesh?.close();
  });

  it('each runs the persisted id from the shared manifest, and only the safelist', async () => {
    const settings = (): GatewaySettings => {
      const s = defaultSettings(false);
      s.persisted_queries = { enabled: true, log_unknown: false, safelist: { enabled: true, require_id: false }, local_manifests: [], manifest_urls: [`${base}/manifest.json`] };
      return s;
    };
    const before = requests;
    for (let i = 0; i < 2; i++) gateways.push(await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ settings: settings() }) }));
    expect(requests - before).toBe(2);
    const answers = [];
    for (const g of gateways) {
      const send = (body: unknown) => fetch(g.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const byId = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: 'categories-v1' } } });
      expect(byId.status).toBe(200);
      answers.push(await byId.json());
      const other = await send({ query: '{ products(first: 1) { id } }' });
      expect(other.status).toBe(403);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect((answers[0] as { data: { categories: unknown[] } }).data.categories.length).toBeGreaterThan(0);
  });

  it('does not start when the manifest cannot be fetched', async () => {
    const s = defaultSettings(false);
    s.persisted_queries = { enabled: true, log_unknown: false, safelist: { enabled: true, require_id: false }, local_manifests: [], manifest_urls: [`${base}/gone.json`] };
    await expect(startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ settings: s }) })).rejects.toThrow(/gone\.json: persisted query manifest could not be fetched: HTTP 404/);
  });
});
