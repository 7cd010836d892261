import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { postGraphQL, startMesh, testConfig, type TestMesh } from './helpers/mesh.js';

/**
 * Hot reload: the gateway swaps its supergraph (schema, plans, authorization index, catalog) while
 * serving, when the SDL file changes or on demand (SIGHUP calls the same reload); requests in flight
 * finish on the old one; an invalid supergraph is refused and the old one keeps serving.
 */
let mesh: TestMesh;
let gateway: RunningGateway;
let dir: string;
let file: string;
let withLaunchedOn: Supergraph;
let withoutLaunchedOn: Supergraph;

const fieldsOfProduct = async () => {
  const { body } = await postGraphQL(gateway.graphqlUrl, '{ __type(name: "Product") { fields { name } } }');
  return (body.data?.__type?.fields ?? []).map((f: { name: string }) => f.name) as string[];
};
const healthHash = async () => ((await (await fetch(`${gateway.url}/health`)).json()) as { supergraph: string }).supergraph;

/** Replaces the file as deploys and editors do (write aside, rename over). */
function publish(supergraph: Supergraph | string) {
  const next = `${file}.next`;
  writeFileSync(next, typeof supergraph === 'string' ? supergraph : supergraph.sdl);
  renameSync(next, file);
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  mesh = await startMesh();
  const routingUrls = Object.fromEntries(Object.values(mesh.subgraphs).map((s) => [s.name, s.url]));
  const schemas = await loadSubgraphSchemas(loadSupergraphConfig('supergraph.yaml'), { routingUrls });
  withLaunchedOn = Supergraph.fromSdl(composeSubgraphs(schemas).supergraphSdl);
  const products = schemas.find((s) => s.name === 'products')!;
  const source = readFileSync('subgraphs/products/schema.graphql', 'utf8');
  const trimmed = source.replace(/\n\s*"Date the product was added to the catalog, ISO-8601."\n\s*launchedOn: String! @classification\(level: PUBLIC\)/, '');
  expect(trimmed).not.toBe(source);
  withoutLaunchedOn = Supergraph.fromSdl(
    composeSubgraphs(schemas.map((s) => (s === products ? { ...s, typeDefs: parse(trimmed) } : s))).supergraphSdl,
  );
  dir = mkdtempSync(join(tmpdir(), 'mesh-reload-'));
  file = join(dir, 'supergraph.graphql');
  writeFileSync(file, withLaunchedOn.sdl);
  gateway = await startGateway({ supergraph: withLaunchedOn, watch: { path: file }, port: 0, config: testConfig() });
});

afterAll(async () => {
  await gateway?.close();
  await mesh?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hot reload', () => {
  it('swaps the schema when the SDL file changes, and says so on /health', async () => {
    expect(await fieldsOfProduct()).toContain('launchedOn');
    // Each reload is awaited to its end (explorer pages included), so the next test's outcome is its own.
    let reloaded = gateway.reloads.next();
    publish(withoutLaunchedOn);
    expect(await reloaded).toBe('reloaded');
    expect(await healthHash()).toBe(withoutLaunchedOn.hash);
    expect(await fieldsOfProduct()).not.toContain('launchedOn');
    reloaded = gateway.reloads.next();
    publish(withLaunchedOn);
    expect(await reloaded).toBe('reloaded');
    expect(await healthHash()).toBe(withLaunchedOn.hash);
    expect(await fieldsOfProduct()).toContain('launchedOn');
  });

  it('refuses an invalid supergraph and keeps serving the current one', async () => {
    const before = await healthHash();
    const outcome = gateway.reloads.next();
    publish('this is not a supergraph {');
    expect(await outcome).toBe('refused');
    expect(await healthHash()).toBe(before);
    const { status, body } = await postGraphQL(gateway.graphqlUrl, '{ product(id: "1") { name } }');
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    publish(withLaunchedOn);
  });

  it(
    'serves 20 connections through ten reloads without a failed request',
    async () => {
      // Event-driven, no fixed duration: the load runs until the tenth reload is served and answered;
      // each reload waits for another 20 answers (one per connection on average), so all ten swap under load.
      let reloading = true;
      let answered = 0;
      const failures: string[] = [];
      const worker = async () => {
        while (reloading) {
          const { status, body } = await postGraphQL(gateway.graphqlUrl, '{ product(id: "1") { name price } }');
          if (status !== 200 || body.errors || body.data?.product?.name === undefined) failures.push(`${status} ${JSON.stringify(body).slice(0, 200)}`);
          answered++;
        }
      };
      const reloads = (async () => {
        try {
          for (let i = 0; i < 10; i++) {
            const servedBefore = answered;
            await until(`answers under load before reload ${i + 1}`, async () => answered >= servedBefore + 20);
            const next = i % 2 === 0 ? withoutLaunchedOn : withLaunchedOn;
            publish(next);
            await until(`reload ${i + 1}`, async () => (await healthHash()) === next.hash);
          }
          // Requests that started on the last supergraph are answered too.
          const servedAfter = answered;
          await until('answers after the last reload', async () => answered >= servedAfter + 20);
        } finally {
          reloading = false;
        }
      })();
      await Promise.all([...Array.from({ length: 20 }, worker), reloads]);
      expect(failures).toEqual([]);
      expect(answered).toBeGreaterThan(100);
      // The last reload published the first supergraph: answers follow it.
      expect(await healthHash()).toBe(withLaunchedOn.hash);
      expect(await fieldsOfProduct()).toContain('launchedOn');
    },
    180_000,
  );
});
