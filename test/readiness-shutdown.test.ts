import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../gateway/config/gateway-settings.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { startMesh, testConfig, type TestMesh } from './helpers/mesh.js';

/**
 * For rolling deploys behind a load balancer: /health is liveness, /ready readiness (the supergraph
 * is served and the required subgraphs answer); SIGTERM (close) stops accepting and lets requests in
 * flight finish within a grace period.
 */
let mesh: TestMesh;
const started: RunningGateway[] = [];

const ready = async (gateway: RunningGateway) => {
  const response = await fetch(`${gateway.url}/ready`);
  return { status: response.status, body: (await response.json()) as { status: string; requestsInFlight: number; subgraphs: { name: string; reachable: boolean | null; required: boolean }[] } };
};

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function gatewayWith(overrides: (s: ReturnType<typeof defaultSettings>) => void): Promise<RunningGateway> {
  const settings = defaultSettings();
  settings.health_check.readiness.interval = '200ms';
  overrides(settings);
  const gateway = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ settings }) });
  started.push(gateway);
  return gateway;
}

/** A POST whose body arrives only when `finish` is called: a request in flight, for as long as the test wants. */
function slowRequest(gateway: RunningGateway) {
  const body = JSON.stringify({ query: '{ product(id: "1") { name } }' });
  const req = request(`${gateway.graphqlUrl}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  return { answer, finish: () => req.end(body.slice(10)), abort: () => req.destroy() };
}

beforeAll(async () => {
  mesh = await startMesh();
});

afterAll(async () => {
  for (const g of started) await g.close(0).catch(() => {});
  await mesh?.close();
});

describe('readiness', () => {
  it('is ready once every subgraph answers, and lists each one', async () => {
    const gateway = await gatewayWith(() => {});
    const { body } = await until('ready', () => ready(gateway), (r) => r.status === 200);
    expect(body.status).toBe('ready');
    expect(body.subgraphs.map((s) => s.name).sort()).toEqual(Object.keys(mesh.subgraphs).sort());
    expect(body.subgraphs.every((s) => s.reachable === true)).toBe(true);
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, finishes the request in flight, then closes', async () => {
    const gateway = await gatewayWith(() => {});
    await until('ready', () => ready(gateway), (r) => r.status === 200);
    const slow = slowRequest(gateway);
    await until('the request in flight', () => ready(gateway), (r) => r.body.requestsInFlight >= 1);
    const closed = gateway.close(60_000);
    // New connections are refused once closing has begun.
    await until('refusing new connections', () => fetch(`${gateway.url}/health`).then(() => false, () => true), (refused) => refused);
    slow.finish();
    const { status, text } = await slow.answer;
    expect(status).toBe(200);
    expect(JSON.parse(text).data.product.name).toEqual(expect.any(String));
    await closed;
  });

  it('gives up on a request that outlasts the grace period', async () => {
    const gateway = await gatewayWith(() => {});
    const slow = slowRequest(gateway);
    slow.answer.catch(() => {});
    await until('the request in flight', () => ready(gateway), (r) => r.body.requestsInFlight >= 1);
    await gateway.close(200);
    slow.abort();
  });
});

describe('readiness with a subgraph down', () => {
  it('answers 503 naming the unreachable subgraph, unless it is not required; /health stays 200', async () => {
    const all = await gatewayWith(() => {});
    const onlyCustomers = await gatewayWith((s) => (s.health_check.readiness.subgraphs = ['customers']));
    await until('ready', () => ready(all), (r) => r.status === 200);
    await mesh.subgraphs.sales!.close();
    const { body } = await until('not ready', () => ready(all), (r) => r.status === 503);
    expect(body.status).toBe('not ready');
    expect(body.subgraphs.find((s) => s.name === 'sales')).toMatchObject({ reachable: false, required: true });
    expect((await fetch(`${all.url}/health`)).status).toBe(200);
    const other = await until('probed', () => ready(onlyCustomers), (r) => r.body.subgraphs.find((s) => s.name === 'sales')?.reachable === false);
    expect(other.status).toBe(200);
  });
});
