import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { InflightDedup } from '../gateway/server/inflight-dedup.js';
import type { GraphQLHttpResult } from '../subgraphs/mesh/http.js';

/** Inbound sharing of identical in-flight requests, and the governed limits on who may share. */
const req = (headers: Record<string, string> = {}) => ({ method: 'POST', headers }) as unknown as IncomingMessage;

function controllable() {
  let calls = 0;
  const releases: (() => void)[] = [];
  const execute = () => {
    calls++;
    return new Promise<GraphQLHttpResult>((resolve) => releases.push(() => resolve({ status: 200, headers: {}, body: `{"n":${calls}}` })));
  };
  return { execute, calls: () => calls, release: () => releases.splice(0).forEach((r) => r()) };
}

describe('inbound in-flight de-duplication', () => {
  it('runs identical concurrent queries with the same credentials once', async () => {
    const dedup = new InflightDedup();
    const c = controllable();
    const body = '{"query":"{ products { name } }"}';
    const all = [1, 2, 3].map(() => dedup.run(req({ authorization: 'Bearer A' }), body, c.execute));
    c.release();
    const results = await Promise.all(all);
    expect(c.calls()).toBe(1);
    expect(new Set(results.map((r) => r.body))).toEqual(new Set(['{"n":1}']));
  });

  it.each([
    ['different credentials', { authorization: 'Bearer B' }],
    ['no credentials', {}],
    ['another declared purpose', { authorization: 'Bearer A', 'x-data-purpose': 'marketing' }],
  ])('never shares between requests with %s', async (_name, other) => {
    const dedup = new InflightDedup();
    const c = controllable();
    const body = '{"query":"{ customers { email } }"}';
    const all = [dedup.run(req({ authorization: 'Bearer A' }), body, c.execute), dedup.run(req(other), body, c.execute)];
    c.release();
    await Promise.all(all);
    expect(c.calls()).toBe(2);
  });

  it('never shares mutations, and keeps nothing once answered', async () => {
    const dedup = new InflightDedup();
    const c = controllable();
    const mutation = '{"query":"mutation { ping }"}';
    const all = [dedup.run(req(), mutation, c.execute), dedup.run(req(), mutation, c.execute)];
    c.release();
    await Promise.all(all);
    expect(c.calls()).toBe(2);
    const query = '{"query":"{ a }"}';
    const first = dedup.run(req(), query, c.execute);
    c.release();
    await first;
    const second = dedup.run(req(), query, c.execute);
    c.release();
    await second;
    expect(c.calls()).toBe(4);
  });
});
