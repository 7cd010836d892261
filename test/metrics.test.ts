import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../gateway/config/gateway-settings.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { postGraphQL, startMesh, testConfig, token, type TestMesh } from './helpers/mesh.js';

/**
 * Prometheus /metrics on the gateway and on each subgraph: what an operator graphs and alerts on.
 * Labels stay bounded: schema coordinates and subgraph names, never a subject or operation text.
 */
let mesh: TestMesh;
let protectedMetrics: RunningGateway;

const scrape = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers });
  return { status: response.status, text: await response.text() };
};
const sample = (text: string, name: string, labels: Record<string, string> = {}) => {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const line = lines.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

beforeAll(async () => {
  mesh = await startMesh();
  const settings = defaultSettings();
  settings.telemetry.metrics.prometheus.require_scope = 'metrics:read';
  protectedMetrics = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ settings }) });
});

afterAll(async () => {
  await protectedMetrics?.close();
  await mesh?.close();
});

describe('gateway /metrics', () => {
  it('counts requests by operation and outcome, subgraph fetches, denials by coordinate, cost and refusals', async () => {
    await mesh.query('query PublicCustomer { customer(id: "42") { region email orders(first: 1) { id } } }');
    await mesh.query('{ a1: product(id: "1") { name } a2: product(id: "1") { name } ' + Array.from({ length: 40 }, (_, i) => `b${i}: product(id: "1") { name }`).join(' ') + ' }');
    const { status, text } = await scrape(`${mesh.gateway.url}/metrics`);
    expect(status).toBe(200);
    expect(sample(text, 'graphql_requests_total', { operation_name: 'PublicCustomer', outcome: 'errors' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'graphql_request_duration_seconds_count', { operation_name: 'PublicCustomer' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'subgraph_fetch_duration_seconds_count', { subgraph: 'customers', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'authorization_denials_total', { coordinate: 'Customer.email', reason: 'unauthorized' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'demand_control_estimated_cost_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'request_limit_rejections_total', { code: 'MAX_ALIASES_LIMIT' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'supergraph_info')).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Bounded labels: no subject, no token, no operation text.
    expect(text).not.toMatch(/tester|Bearer|customer\(id/);
  });

  it('can require a token with a scope', async () => {
    expect((await scrape(`${protectedMetrics.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${protectedMetrics.url}/metrics`, { authorization: `Bearer ${await token([])}` })).status).toBe(403);
    const allowed = await scrape(`${protectedMetrics.url}/metrics`, { authorization: `Bearer ${await token(['metrics:read'])}` });
    expect(allowed.status).toBe(200);
    expect(allowed.text).toContain('graphql_requests_total');
  });

  it('gives unknown operation names past the first 200 one label, other', { timeout: 300_000 }, async () => {
    // Names 0–199 take the labels (in order), then five more share "other".
    for (let batch = 0; batch < 200; batch += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => postGraphQL(protectedMetrics.graphqlUrl, `query Op${batch + i} { product(id: "1") { name } }`)));
    }
    for (let i = 200; i < 205; i++) await postGraphQL(protectedMetrics.graphqlUrl, `query Op${i} { product(id: "1") { name } }`);
    const { text } = await scrape(`${protectedMetrics.url}/metrics`, { authorization: `Bearer ${await token(['metrics:read'])}` });
    expect(sample(text, 'graphql_requests_total', { operation_name: 'other', outcome: 'ok' })).toBeGreaterThanOrEqual(5);
    expect(text).not.toContain('operation_name="Op204"');
  });
});

describe('subgraph /metrics', () => {
  it('reports request latency, DataLoader batch sizes and SQL statements', async () => {
    await mesh.query('{ customers(first: 20) { id orders(first: 2) { id } } }', undefined, { authorization: `Bearer ${await token([])}` });
    const { text } = await scrape(mesh.subgraphs.sales!.url.replace(/\/graphql$/, '/metrics'));
    expect(sample(text, 'subgraph_request_duration_seconds_count', { subgraph: 'sales', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    // One batch of the twenty customers' orders, not twenty batches of one.
    expect(sample(text, 'dataloader_batch_size_bucket', { le: '25' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'subgraph_sql_statements_total')).toBeGreaterThan(0);
  });
});

describe('access log', () => {
  it('writes one JSON line per request: subject, operation name and hash, status, duration, denials, cost; never the token', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'info';
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk === 'string' && chunk.includes('"component":"access"')) lines.push(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    const bearer = await token([], {}, 'alice');
    try {
      await mesh.query('query WhoOrders { customer(id: "42") { email orders(first: 1) { id } } }', undefined, { authorization: `Bearer ${bearer}` });
      const deadline = Date.now() + 30_000;
      while (!lines.some((l) => l.includes('WhoOrders')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.stdout.write = write;
      process.env.LOG_LEVEL = level;
    }
    const entry = JSON.parse(lines.find((l) => l.includes('WhoOrders'))!);
    expect(entry).toMatchObject({ component: 'access', subject: 'alice', operationName: 'WhoOrders', status: 200, denied: 1 });
    expect(entry.operationHash).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.durationMs).toBeGreaterThan(0);
    expect(entry.estimatedCost).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(bearer);
  });
});
