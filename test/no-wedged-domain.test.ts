import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERIES } from '../bench/queries.js';
import { defaultSettings, type GatewaySettings } from '../gateway/config/gateway-settings.js';
import { EXAMPLE_QUERY } from '../gateway/explorer/example-query.js';
import { BENCH_CLAIMS, BENCH_SCOPES } from '../bench/auth.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../subgraphs/kit/request-budget.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { fullAccess, postGraphQL, startMesh, testConfig, token, type TestMesh } from './helpers/mesh.js';

/**
 * No wedged domain: a request that fans out without bound must not hold a subgraph. The gateway
 * gives up at its deadlines (Router's traffic_shaping) and aborts the subgraph fetch; the subgraph
 * notices the disconnect and stops working (stops issuing SQL); the kit's caps end a request that
 * reads too many rows or builds too large a response. Demand control (which would refuse these by
 * estimate) is off here: this is the defence behind it.
 *
 * Nothing here waits on time passing: tests wait for a subgraph's in-flight count to drop to zero,
 * with a generous bound. Durations are measured and printed, not asserted tightly.
 */

/** 500 × 100 × 100 products: 5,000,000 objects, all from three cached SQL statements. */
const HOSTILE_PRODUCTS = '{ products(first: 500) { category { products(first: 100) { category { products(first: 100) { name } } } } } }';
/** 500 customers × orders × the same customers' orders × lines: all but a few loads hit sales' DataLoader cache. */
const HOSTILE_SALES = `{ customers(first: 500) { orders(first: 100) { customer { orders(first: 100) { id lines { quantity product { id } } } } } } }`;

const KIT_CAPS_OFF: Partial<RequestLimits> = { maxRows: 0, maxResponseBytes: 0, timeoutMs: 0 };

function settingsWith(timeouts: { router: string; subgraphs: string }): GatewaySettings {
  const settings = defaultSettings();
  // The estimate would refuse these at the gateway; the point is what happens to those it lets through.
  settings.demand_control.enabled = false;
  settings.traffic_shaping.router.timeout = timeouts.router;
  settings.traffic_shaping.all.timeout = timeouts.subgraphs;
  return settings;
}

/** Polls until `condition` holds; fails after `ms` (generous: a loaded machine is slow, not wrong). */
async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - started;
}

/** A subgraph's own counters, read over HTTP: answering at all shows it is not wedged. */
async function metrics(mesh: TestMesh, subgraph: string): Promise<{ statements: number; inFlight: number; stopped: Record<string, number> }> {
  const text = await (await fetch(mesh.subgraphs[subgraph]!.url.replace(/\/graphql$/, '/metrics'))).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  const stopped: Record<string, number> = {};
  for (const m of text.matchAll(/^subgraph_requests_stopped_total\{[^}]*reason="(\w+)"[^}]*\} (\d+)$/gm)) stopped[m[1]!] = Number(m[2]);
  return { statements: value('subgraph_sql_statements_total'), inFlight: value('subgraph_graphql_requests_in_flight'), stopped };
}

/** Resolves when `subgraph` has received a GraphQL request matching `pattern` (set up before sending). */
function arrival(arrivals: Map<RegExp, () => void>, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => arrivals.set(pattern, resolve));
}

/** The subgraph has finished every request it was given, and issues no SQL while idle. */
async function expectStopped(mesh: TestMesh, subgraph: string): Promise<number> {
  const waited = await until(async () => (await metrics(mesh, subgraph)).inFlight === 0, `${subgraph} to finish its requests`);
  const before = (await metrics(mesh, subgraph)).statements;
  // Another round trip to every subgraph: still no new statement in this one.
  for (const name of Object.keys(mesh.subgraphs)) await metrics(mesh, name);
  expect((await metrics(mesh, subgraph)).statements).toBe(before);
  return waited;
}

/** Every domain answers /health and its part of one small cross-domain query. */
async function expectEveryDomainAnswers(mesh: TestMesh, auth: Record<string, string>): Promise<number> {
  const started = performance.now();
  for (const subgraph of Object.values(mesh.subgraphs)) {
    const health = await fetch(subgraph.url.replace(/\/graphql$/, '/health'));
    expect(health.status).toBe(200);
  }
  const { status, body } = await mesh.query(
    '{ customer(id: "42") { fullName segment { name } orders(first: 1) { id invoice { number } lines { product { name } } } } products(first: 2) { name } }',
    undefined,
    auth,
  );
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  expect(body.data.customer.orders).toHaveLength(1);
  expect(body.data.products).toHaveLength(2);
  return performance.now() - started;
}

const arrivals = new Map<RegExp, () => void>();
const hooks = (limits: Partial<RequestLimits>) => ({
  subgraphLimits: limits,
  onSubgraphRequest: (_: string, body: { query?: string }) => {
    for (const [pattern, arrived] of arrivals) if (pattern.test(body.query ?? '')) (arrivals.delete(pattern), arrived());
  },
});

/**
 * The first three groups differ only in the gateway's timeouts: they share one set of subgraphs
 * (kit caps off), each with a gateway of its own in front of them.
 */
let capsOff: TestMesh;
beforeAll(async () => {
  capsOff = await startMesh({ config: testConfig({ settings: settingsWith({ router: '60s', subgraphs: '2s' }) }) }, hooks(KIT_CAPS_OFF));
});
afterAll(() => capsOff?.close());

/** The shared subgraphs behind a gateway of these timeouts (closing it leaves the subgraphs running). */
async function capsOffGateway(timeouts: { router: string; subgraphs: string }): Promise<TestMesh> {
  const gateway: RunningGateway = await startGateway({ supergraphSdl: capsOff.supergraphSdl, port: 0, config: testConfig({ settings: settingsWith(timeouts) }) });
  return { ...capsOff, gateway, query: (query, variables, headers) => postGraphQL(gateway.graphqlUrl, query, variables, headers), close: () => gateway.close() };
}

describe('a hostile fan-out past its subgraph timeout (traffic_shaping.all.timeout 2s, kit caps off)', () => {
  let mesh: TestMesh;
  let auth: Record<string, string>;
  beforeAll(async () => {
    mesh = capsOff;
    auth = await fullAccess();
  });

  it('answers an anonymous products fan-out with GATEWAY_TIMEOUT naming products, and products stops working on it', async () => {
    const started = performance.now();
    const { status, body } = await mesh.query(HOSTILE_PRODUCTS);
    const answered = performance.now() - started;
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/"products".*timed out/), extensions: expect.objectContaining({ code: 'GATEWAY_TIMEOUT', serviceName: 'products' }) }),
    );
    expect(answered).toBeLessThan(20_000); // 2 s timeout; before this, about 4 minutes
    const stopped = await expectStopped(mesh, 'products');
    expect((await metrics(mesh, 'products')).stopped.cancelled).toBeGreaterThanOrEqual(1);
    const small = await expectEveryDomainAnswers(mesh, auth);
    console.info(`products fan-out: answered in ${answered.toFixed(0)} ms; products idle ${stopped.toFixed(0)} ms later; every domain answered in ${small.toFixed(0)} ms`);
  });

  it('keeps the data of the other domains when the timed-out fetch is under a nullable field', async () => {
    const { status, body } = await mesh.query(
      `{ campaign(id: "1") { name } product(id: "1") { category { products(first: 100) { category { products(first: 100) { category { products(first: 100) { name } } } } } } } }`,
      undefined,
      auth,
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({ campaign: { name: expect.any(String) }, product: null });
    expect(body.errors?.map((e) => [e.extensions?.code, e.extensions?.serviceName])).toContainEqual(['GATEWAY_TIMEOUT', 'products']);
    await expectStopped(mesh, 'products');
  });

  it('answers a sales fan-out with a token with GATEWAY_TIMEOUT naming sales, and sales stops working on it', async () => {
    const started = performance.now();
    const { status, body } = await mesh.query(HOSTILE_SALES, undefined, auth);
    const answered = performance.now() - started;
    expect(status).toBe(200);
    expect(body.errors?.map((e) => [e.extensions?.code, e.extensions?.serviceName])).toContainEqual(['GATEWAY_TIMEOUT', 'sales']);
    expect(answered).toBeLessThan(20_000); // before this, sales was wedged for over 7 minutes
    const stopped = await expectStopped(mesh, 'sales');
    const small = await expectEveryDomainAnswers(mesh, auth);
    console.info(`sales fan-out: answered in ${answered.toFixed(0)} ms; sales idle ${stopped.toFixed(0)} ms later; every domain answered in ${small.toFixed(0)} ms`);
  });
});

describe('a client that disconnects mid-request (every timeout 60s, kit caps off)', () => {
  let mesh: TestMesh;
  beforeAll(async () => {
    mesh = await capsOffGateway({ router: '60s', subgraphs: '60s' });
  });
  afterAll(() => mesh?.close());

  it('makes the subgraph stop: its request ends long before any deadline, and its SQL stops', async () => {
    const client = new AbortController();
    const arrived = arrival(arrivals, /category\s*\{\s*products/);
    const request = fetch(mesh.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: HOSTILE_PRODUCTS }),
      signal: client.signal,
    }).catch((error: Error) => error);
    await arrived;
    await until(async () => (await metrics(mesh, 'products')).inFlight === 1, 'products to be working on it');
    const before = (await metrics(mesh, 'products')).stopped.cancelled ?? 0;
    const aborted = performance.now();
    client.abort();
    expect(await request).toMatchObject({ name: 'AbortError' });
    // No deadline fires within this test's time: only the disconnect, relayed by the gateway, stops it.
    const stopped = await expectStopped(mesh, 'products');
    expect((await metrics(mesh, 'products')).stopped.cancelled).toBe(before + 1);
    expect(performance.now() - aborted).toBeLessThan(30_000);
    console.info(`client disconnect: products idle ${stopped.toFixed(0)} ms after the abort`);
    await expectEveryDomainAnswers(mesh, await fullAccess());
  });

  it('does not cancel an execution shared by identical requests while one of them still waits', async () => {
    // Two identical anonymous requests share one execution; the first client leaves, the second stays.
    const query = '{ products(first: 3) { name } }';
    const leaving = new AbortController();
    const first = fetch(mesh.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), signal: leaving.signal }).catch(
      (error: Error) => error,
    );
    const second = mesh.query(query);
    leaving.abort();
    expect(await first).toMatchObject({ name: 'AbortError' });
    const { status, body } = await second;
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.products).toHaveLength(3);
  });
});

describe('the gateway deadline (traffic_shaping.router.timeout 2s, subgraph timeouts 60s, kit caps off)', () => {
  let mesh: TestMesh;
  beforeAll(async () => {
    mesh = await capsOffGateway({ router: '2s', subgraphs: '60s' });
  });
  afterAll(() => mesh?.close());

  it("answers HTTP 504 GATEWAY_TIMEOUT, as Router does, and aborts the request's subgraph fetches", async () => {
    const started = performance.now();
    const { status, body } = await mesh.query(HOSTILE_PRODUCTS);
    expect(status).toBe(504);
    expect(body).toEqual({ errors: [{ message: 'Your request has been timed out', extensions: { code: 'GATEWAY_TIMEOUT' } }] });
    expect(performance.now() - started).toBeLessThan(20_000);
    const stopped = await expectStopped(mesh, 'products');
    console.info(`router timeout: products idle ${stopped.toFixed(0)} ms after the 504`);
    await expectEveryDomainAnswers(mesh, await fullAccess());
  });
});

describe("the kit's caps (set to a tenth of the defaults here)", () => {
  const TENTH: RequestLimits = {
    timeoutMs: DEFAULT_REQUEST_LIMITS.timeoutMs,
    maxRows: DEFAULT_REQUEST_LIMITS.maxRows / 10,
    maxResponseBytes: DEFAULT_REQUEST_LIMITS.maxResponseBytes / 10,
  };
  let mesh: TestMesh;
  let auth: Record<string, string>;
  beforeAll(async () => {
    mesh = await startMesh({ config: testConfig({ settings: settingsWith({ router: '60s', subgraphs: '60s' }) }) }, hooks(TENTH));
    auth = await fullAccess();
  });
  afterAll(() => mesh?.close());

  it('end a request that reads too many rows with SUBGRAPH_ROW_LIMIT, keeping the other domains’ data', async () => {
    // A category's 100 products, each with 120 days and 120 weeks of sales: about 20,000 rows from sales.
    const { status, body } = await mesh.query(
      `{ segments { name } product(id: "1") { name category { products(first: 100) {
          days: salesTrend(period: DAY, last: 120) { units } weeks: salesTrend(period: WEEK, last: 120) { units } } } } }`,
      undefined,
      auth,
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({ segments: expect.any(Array), product: null });
    expect(body.data.segments.length).toBeGreaterThan(0);
    const error = body.errors?.find((e) => e.extensions?.code === 'SUBGRAPH_ROW_LIMIT');
    expect(error).toMatchObject({ message: expect.stringMatching(/"sales".*10000 rows/), extensions: { serviceName: 'sales' } });
    await expectStopped(mesh, 'sales');
  });

  it('end a request whose response grows too large with SUBGRAPH_RESPONSE_TOO_LARGE, keeping the other domains’ data', async () => {
    const { status, body } = await mesh.query(
      // 10,000 products with their text: about 1.5 MB.
      `{ segments { name } product(id: "1") { category { products(first: 100) { category { products(first: 100) { sku name description attributes { name value } } } } } } }`,
      undefined,
      auth,
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({ segments: expect.any(Array), product: null });
    expect(body.data.segments.length).toBeGreaterThan(0);
    const error = body.errors?.find((e) => e.extensions?.code === 'SUBGRAPH_RESPONSE_TOO_LARGE');
    expect(error).toMatchObject({ message: expect.stringMatching(/"products".*1000000 bytes/), extensions: { serviceName: 'products' } });
    await expectStopped(mesh, 'products');
  });

  it('stop the hostile fan-outs by themselves, with no timeout needed', async () => {
    const products = await mesh.query(HOSTILE_PRODUCTS);
    expect(products.body.errors?.map((e) => e.extensions?.code)).toContain('SUBGRAPH_RESPONSE_TOO_LARGE');
    // Sales reads the lines of 5,000 orders (about 20,000 rows) while its response grows: either cap may come first.
    const sales = await mesh.query(HOSTILE_SALES, undefined, auth);
    expect(sales.body.errors?.map((e) => e.extensions?.code)).toContainEqual(expect.stringMatching(/^SUBGRAPH_(ROW_LIMIT|RESPONSE_TOO_LARGE)$/));
    await expectStopped(mesh, 'products');
    await expectStopped(mesh, 'sales');
  });

  it("leave the mesh's own queries well inside the defaults: the explorer's example and the benchmark's, at a tenth of them", async () => {
    const benchAuth = { authorization: `Bearer ${await token(BENCH_SCOPES, BENCH_CLAIMS)}` };
    for (const q of QUERIES) {
      const { status, body } = await mesh.query(q.query, q.variables, benchAuth);
      expect({ id: q.id, status, errors: body.errors }).toEqual({ id: q.id, status: 200, errors: undefined });
    }
    const example = await mesh.query(EXAMPLE_QUERY, undefined, await fullAccess({ department: 'finance' }));
    expect(example.body.errors).toBeUndefined();
    expect(example.body.data.customer.orders.length).toBeGreaterThan(0);
  });
});
