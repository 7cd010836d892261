import Database from 'better-sqlite3';
import { propagation, trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runningTracing, startTracing, tracesEndpoint } from '../subgraphs/mesh/tracing.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { CLI_TIMEOUT_MS, freePort, freePortRange, PROCESS_TEST_TIMEOUT_MS, startCli, type RunningCli } from './helpers/cli.js';
import { fullAccess, postGraphQL, startMesh, type TestMesh } from './helpers/mesh.js';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver.js';

/**
 * OpenTelemetry tracing, end to end: `npm start` (the gateway and five subgraph processes) with the
 * standard OTEL_* variables pointing at a real OTLP/HTTP receiver in this test; and tracing off,
 * which must register nothing and send nothing.
 */
const START_MESH = 'gateway/cli/start-mesh.ts';
const GATEWAY_SERVICE = 'gateway-under-test';

/** One query through all five domains: customers → segment (marketing), orders (sales) → invoice (finance), lines → product (products). */
const QUERY = `query TracedOverview($id: ID!) {
  customer(id: $id) {
    fullName
    segment { name }
    lifetimeValue
    orders(first: 1) { id invoice { number } lines { quantity product { name category { name } } } }
  }
}`;

const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');
const traceparent = (traceId: string, parentId: string, sampled: boolean) => `00-${traceId}-${parentId}-${sampled ? '01' : '00'}`;

/** Every gateway fetch has reached its subgraph's server span: the trace is complete in every process. */
function complete(traceId: string) {
  return (spans: ReceivedSpan[]) => {
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const gatewayRequest = inTrace.find((s) => s.service === GATEWAY_SERVICE && s.kind === SPAN_KIND.SERVER);
    const fetches = inTrace.filter((s) => s.service === GATEWAY_SERVICE && s.kind === SPAN_KIND.CLIENT);
    return !!gatewayRequest && fetches.length > 0 && fetches.every((f) => inTrace.some((s) => s.kind === SPAN_KIND.SERVER && s.parentSpanId === f.spanId));
  };
}

describe('tracing on: npm start with OTEL_EXPORTER_OTLP_ENDPOINT', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  let receiver: OtlpReceiver;
  let dataDir: string;
  let mesh: RunningCli;
  let graphqlUrl: string;
  let customerId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Its own small databases: the shared test databases are not this process tree's to rebuild.
    dataDir = mkdtempSync(join(tmpdir(), 'tracing-test-'));
    const gatewayPort = await freePort();
    let base: number;
    do base = await freePortRange(DOMAINS.length);
    while (gatewayPort >= base && gatewayPort < base + DOMAINS.length);
    mesh = startCli(START_MESH, ['--port', String(gatewayPort), '--subgraph-port-base', String(base), '--data-dir', dataDir, '--scale', '0.02'], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: GATEWAY_SERVICE,
        // Batches leave every 50 ms instead of every 5 s: the receiver sees them sooner, nothing else changes.
        OTEL_BSP_SCHEDULE_DELAY: '50',
        HOT_RELOAD: 'false',
      },
    });
    await mesh.waitForOutput(/Press Ctrl-C to stop\./, 2 * CLI_TIMEOUT_MS);
    graphqlUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    const sales = new Database(join(dataDir, 'sales.db'), { readonly: true });
    try {
      customerId = String((sales.prepare('SELECT customer_id FROM orders ORDER BY customer_id LIMIT 1').get() as { customer_id: number }).customer_id);
    } finally {
      sales.close();
    }
  }, 2 * CLI_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await mesh?.stop('SIGTERM');
    await receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, PROCESS_TEST_TIMEOUT_MS);

  it('makes one trace of a query: the gateway request, parse, validate, authorize, plan and fetches, and each subgraph request with its DataLoader batches and SQL, each subgraph request a child of the gateway fetch that called it', async () => {
    const traceId = newTraceId();
    const clientSpanId = newSpanId();
    const headers = await fullAccess();
    const { status, body } = await postGraphQL(graphqlUrl, QUERY, { id: customerId }, { ...headers, traceparent: traceparent(traceId, clientSpanId, true) });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();

    const spans = (await receiver.waitFor(complete(traceId))).filter((s) => s.traceId === traceId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => byId.get(s.parentSpanId);
    const ancestors = (s: ReceivedSpan) => {
      const list: ReceivedSpan[] = [];
      for (let p = parentOf(s); p; p = parentOf(p)) list.push(p);
      return list;
    };
    const gateway = spans.filter((s) => s.service === GATEWAY_SERVICE);
    const one = (name: string) => {
      const found = gateway.filter((s) => s.name === name);
      expect(found.map((s) => s.name), `one gateway span named ${name}`).toEqual([name]);
      return found[0]!;
    };

    // The gateway's HTTP request continues the client's trace.
    const request = gateway.find((s) => s.kind === SPAN_KIND.SERVER)!;
    expect(request).toMatchObject({ name: 'POST /graphql', parentSpanId: clientSpanId, scope: 'data-mesh/http' });
    expect(request.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'http.response.status_code': 200,
      'graphql.operation.name': 'TracedOverview',
      'graphql.operation.type': 'query',
    });
    expect(parentOf(one('graphql.parse'))).toBe(request);
    expect(parentOf(one('graphql.validate'))).toBe(request);
    // The operation: authorize, then ApolloGateway's plan and execution, under it.
    const operation = one('query TracedOverview');
    expect(parentOf(operation)).toBe(request);
    expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'TracedOverview', 'graphql.operation.type': 'query' });
    const authorize = one('graphql.authorize');
    expect(parentOf(authorize)).toBe(operation);
    expect(authorize.attributes).toMatchObject({ 'mesh.authorization.mode': 'filter', 'mesh.authorization.unauthorized': 0 });
    expect(ancestors(one('gateway.plan'))).toContain(operation);

    // One fetch span per subgraph the plan calls, each the parent of that subgraph's request span.
    const fetches = gateway.filter((s) => s.kind === SPAN_KIND.CLIENT);
    expect(fetches.map((f) => f.attributes['subgraph.name']).sort()).toEqual(expect.arrayContaining(['customers', 'finance', 'marketing', 'products', 'sales']));
    for (const fetch of fetches) {
      const name = String(fetch.attributes['subgraph.name']);
      expect(ancestors(fetch)).toContain(operation);
      expect(fetch).toMatchObject({ name: 'POST /graphql', scope: 'data-mesh/gateway' });
      expect(fetch.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'url.full': expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/) });
      const served = spans.filter((s) => s.kind === SPAN_KIND.SERVER && s.parentSpanId === fetch.spanId);
      expect(served.map((s) => s.service), `the ${name} subgraph's request span is a child of the gateway's fetch`).toEqual([`${name}-subgraph`]);
      expect(served[0]).toMatchObject({ name: 'POST /graphql', attributes: expect.objectContaining({ 'http.response.status_code': 200, 'graphql.operation.type': 'query' }) });
    }

    // In the subgraphs: SQL statements inside DataLoader batches inside the subgraph's request.
    for (const domain of ['customers', 'sales', 'products', 'finance', 'marketing']) {
      const service = `${domain}-subgraph`;
      const sql = spans.filter((s) => s.service === service && s.attributes['db.system.name'] === 'sqlite');
      expect(sql.length, `${domain} ran SQL in the trace`).toBeGreaterThan(0);
      for (const statement of sql) {
        expect(statement.kind).toBe(SPAN_KIND.CLIENT);
        expect(statement.name).toMatch(/^SELECT \w+$/);
        expect(statement.attributes['db.query.text']).toEqual(expect.stringContaining('?'));
        expect(parentOf(statement)?.name).toBe('dataloader.batch');
        expect(ancestors(statement).some((a) => a.service === service && a.kind === SPAN_KIND.SERVER)).toBe(true);
      }
    }
    const customers = spans.find((s) => s.name === 'SELECT customers' && s.service === 'customers-subgraph');
    expect(customers?.attributes['db.response.returned_rows']).toBe(1);
    expect(parentOf(customers!)?.attributes['dataloader.batch.size']).toBe(1);

    // Nothing secret in any attribute: no token, no signed identity (both JWTs), no header.
    const values = spans.flatMap((s) => Object.values(s.attributes).map(String));
    const token = headers.authorization!.slice('Bearer '.length);
    expect(values.filter((v) => v.includes(token) || v.includes('eyJ') || /bearer/i.test(v))).toEqual([]);
    expect(spans.flatMap((s) => Object.keys(s.attributes)).filter((k) => k.startsWith('http.request.header') || k.includes('identity'))).toEqual([]);
  });

  it('records nothing, in any process, of a request its client sampled out (traceparent flags 00)', async () => {
    const sampledOut = newTraceId();
    const headers = await fullAccess();
    const first = await postGraphQL(graphqlUrl, QUERY, { id: customerId }, { ...headers, traceparent: traceparent(sampledOut, newSpanId(), false) });
    expect(first.status).toBe(200);
    // A sampled request afterwards: once all of it has arrived from every process, anything of the
    // first one (ended earlier in each process, exported in order) would have arrived too.
    const sampled = newTraceId();
    await postGraphQL(graphqlUrl, QUERY, { id: customerId }, { ...headers, traceparent: traceparent(sampled, newSpanId(), true) });
    await receiver.waitFor(complete(sampled));
    expect(receiver.spans.filter((s) => s.traceId === sampledOut)).toEqual([]);
  });

  it('names the gateway from OTEL_SERVICE_NAME and each subgraph process after its domain', () => {
    const services = new Set(receiver.spans.map((s) => s.service));
    expect([...services].sort()).toEqual([GATEWAY_SERVICE, ...DOMAINS.map((d) => `${d.name}-subgraph`)].sort());
  });
});

describe('tracing off', () => {
  const OTEL = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER', 'OTEL_SERVICE_NAME'];
  const clearOtelEnv = () => OTEL.forEach((name) => vi.stubEnv(name, undefined));
  afterEach(() => vi.unstubAllEnvs());

  /** What the API hands out when no provider is registered: the no-op provider, no propagator. */
  function expectNothingRegistered() {
    expect(runningTracing()).toBeNull();
    expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate().constructor.name).toBe('NoopTracerProvider');
    const span = trace.getTracer('test').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    expect(propagation.fields()).toEqual([]);
  }

  it('is off by default: without an OTLP endpoint nothing is registered', async () => {
    clearOtelEnv();
    expect(tracesEndpoint(process.env)).toBeNull();
    expect(await startTracing({ serviceName: 'data-mesh-gateway' })).toBeNull();
    expectNothingRegistered();
  });

  describe('with an endpoint configured', () => {
    let receiver: OtlpReceiver;
    let mesh: TestMesh | null = null;
    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      mesh = await startMesh();
    });
    afterAll(async () => {
      await mesh?.close();
      await receiver?.close();
    });

    it('stays off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: nothing registered, a query through the mesh exports nothing', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
      clearOtelEnv();
      vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
      vi.stubEnv('OTEL_TRACES_EXPORTER', 'none');
      expect(await startTracing({ serviceName: 'data-mesh-gateway' })).toBeNull();
      vi.stubEnv('OTEL_TRACES_EXPORTER', undefined);
      vi.stubEnv('OTEL_SDK_DISABLED', 'true');
      // What the CLIs call before they start the gateway and each subgraph.
      expect(await startTracing({ serviceName: 'data-mesh-gateway' })).toBeNull();
      expectNothingRegistered();
      const { status, body } = await mesh!.query(QUERY, { id: '42' }, { ...(await fullAccess()), traceparent: traceparent(newTraceId(), newSpanId(), true) });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      // Once the mesh has stopped, nothing can still be on its way: nothing was sent.
      const stopping = mesh!;
      mesh = null;
      await stopping.close();
      expect(receiver.requests).toBe(0);
    });
  });

  it('derives the traces URL as the OTLP exporter does', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318/v1/traces');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' })).toBe('http://b:9999/traces');
  });
});
