import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Cancellation, clientClosed } from '../gateway/server/cancellation.js';
import { createSubgraphAgent, SubgraphDataSource } from '../gateway/server/subgraph-data-source.js';

/**
 * The gateway's subgraph transport shares identical in-flight fetches, but only between callers
 * with the same signed identity, and never for mutations. The subgraph here holds its answers
 * until released, so the calls really overlap; once released, it answers at once. Tests wait on
 * requests arriving, never on time passing.
 */
let server: Server;
let url: string;
const held: { req: IncomingMessage; res: ServerResponse; body: string }[] = [];
/** Requests the subgraph received since the test began, held or answered. */
let received = 0;
let holding = true;
const arrivals = new Set<() => void>();
const agent = createSubgraphAgent();

function answer(h: { req: IncomingMessage; res: ServerResponse }) {
  h.res.writeHead(200, { 'content-type': 'application/json' });
  h.res.end(JSON.stringify({ data: { who: h.req.headers['x-mesh-identity'] } }));
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received++;
    if (holding) held.push({ req, res, body });
    else answer({ req, res });
    arrivals.forEach((arrived) => arrived());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  received = 0;
  holding = true;
});

/** Resolves once `n` requests are held (the test's timeout bounds the wait). */
function untilHeld(n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (held.length < n) return;
      arrivals.delete(check);
      resolve();
    };
    arrivals.add(check);
    check();
  });
}
/** Answers every held request, and from now on every request as it arrives. */
function releaseAll() {
  holding = false;
  held.splice(0).forEach(answer);
}
const call = (source: SubgraphDataSource, query: string, identityHeader: string) =>
  source.process({ request: { query, variables: {} }, context: { identityHeader } } as any);

describe('subgraph transport', () => {
  it('sends one request for identical concurrent fetches of the same identity, and gives each caller its own copy', async () => {
    const source = new SubgraphDataSource('test', url, agent);
    const calls = [1, 2, 3].map(() => call(source, '{ a }', 'identity-A'));
    await untilHeld(1);
    releaseAll();
    const results = await Promise.all(calls);
    // Every request sent has been answered by now: a second one would have been counted.
    expect(received).toBe(1);
    expect(results.map((r) => r.data)).toEqual([{ who: 'identity-A' }, { who: 'identity-A' }, { who: 'identity-A' }]);
    expect(results[0]!.data).not.toBe(results[1]!.data);
  });

  it('never shares between different identities', async () => {
    const source = new SubgraphDataSource('test', url, agent);
    const calls = [call(source, '{ a }', 'identity-A'), call(source, '{ a }', 'identity-B')];
    await untilHeld(2);
    expect(held).toHaveLength(2);
    releaseAll();
    expect((await Promise.all(calls)).map((r) => r.data)).toEqual([{ who: 'identity-A' }, { who: 'identity-B' }]);
  });

  it('never shares mutations', async () => {
    const source = new SubgraphDataSource('test', url, agent);
    const calls = [call(source, 'mutation { m }', 'identity-A'), call(source, 'mutation { m }', 'identity-A')];
    await untilHeld(2);
    expect(held).toHaveLength(2);
    releaseAll();
    await Promise.all(calls);
  });

  /** A fetch for a request whose cancellation is `signal` (the client leaving, its deadline). */
  const callFor = (source: SubgraphDataSource, signal: Cancellation) =>
    source.process({ request: { query: '{ slow }', variables: {} }, context: { identityHeader: 'same', signal } } as any).catch((e: Error & { extensions?: { code?: string } }) => e);
  /** Resolves when the gateway closes the held request (the subgraph sees its client go). */
  const closedByGateway = (h: { res: ServerResponse }) => new Promise<void>((resolve) => (h.res.destroyed ? resolve() : h.res.once('close', () => resolve())));

  it('keeps a shared fetch going when one of its callers leaves: the other still gets the answer', async () => {
    const source = new SubgraphDataSource('inventory', url, agent);
    const [leaving, staying] = [new Cancellation(), new Cancellation()];
    const first = callFor(source, leaving);
    const second = callFor(source, staying);
    await untilHeld(1);
    leaving.abort(clientClosed());
    expect(((await first) as { extensions?: { code?: string } }).extensions?.code).toBe('CLIENT_CLOSED_REQUEST');
    releaseAll();
    expect(await second).toEqual({ data: { who: 'same' } });
    expect(received).toBe(1);
  });

  it('cancels the subgraph request once the last caller of a shared fetch has left', async () => {
    const source = new SubgraphDataSource('inventory', url, agent);
    const callers = [new Cancellation(), new Cancellation()];
    const calls = callers.map((signal) => callFor(source, signal));
    await untilHeld(1);
    const request = held.splice(0, 1)[0]!;
    for (const signal of callers) signal.abort(clientClosed());
    await closedByGateway(request);
    for (const error of await Promise.all(calls)) expect((error as { extensions?: { code?: string } }).extensions?.code).toBe('CLIENT_CLOSED_REQUEST');
  });

  it('ends a fetch past its deadline with GATEWAY_TIMEOUT naming the subgraph, and cancels its request', async () => {
    const source = new SubgraphDataSource('inventory', url, agent, 50);
    const call = callFor(source, new Cancellation());
    await untilHeld(1);
    const request = held.splice(0, 1)[0]!;
    const error = (await call) as Error & { extensions?: Record<string, unknown> };
    expect(error.extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT', serviceName: 'inventory' });
    await closedByGateway(request);
  });

  it('turns a refused connection into SUBGRAPH_UNAVAILABLE naming the subgraph', async () => {
    const source = new SubgraphDataSource('inventory', 'http://127.0.0.1:1/graphql', agent);
    const error = await call(source, '{ a }', 'x').catch((e) => e);
    expect(error.message).toContain('Subgraph "inventory" is unavailable');
    expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'inventory' });
  });
});
