import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings, type GatewaySettings } from '../gateway/config/gateway-settings.js';
import { Cors } from '../gateway/server/cors.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { fullAccess, postGraphQL, startMesh, testConfig, token, type TestMesh } from './helpers/mesh.js';

let mesh: TestMesh;
const gateways: RunningGateway[] = [];
async function gateway(change: (s: GatewaySettings) => void): Promise<RunningGateway> {
  const settings = defaultSettings(false);
  change(settings);
  const g = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ settings }) });
  gateways.push(g);
  return g;
}
beforeAll(async () => {
  mesh = await startMesh();
});
afterAll(async () => {
  for (const g of gateways) await g.close();
  await mesh?.close();
});

const preflight = (url: string, origin: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', ...headers } });
const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

describe('CORS (Router-style cors settings)', () => {
  let open: RunningGateway;
  beforeAll(async () => {
    open = await gateway((s) => {
      s.cors.origins = ['https://app.example.com'];
      s.cors.match_origins = ['https://[a-z]+\\.example\\.org'];
      s.cors.allow_credentials = true;
      s.cors.expose_headers = ['x-request-id'];
      s.cors.max_age = '10m';
    });
  });

  it('answers a preflight from a listed origin with 204 and the allow headers, mirroring the requested headers', async () => {
    const response = await preflight(open.graphqlUrl, 'https://app.example.com', { 'access-control-request-headers': 'content-type, authorization' });
    expect(response.status).toBe(204);
    expect(corsHeaders(response)).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    });
  });

  it('allows origins matching match_origins, anchored at both ends', async () => {
    expect((await preflight(open.graphqlUrl, 'https://studio.example.org')).status).toBe(204);
    for (const origin of ['https://evil.com?https://a.example.org', 'https://a.example.org.evil.com', 'http://app.example.com']) {
      const response = await preflight(open.graphqlUrl, origin);
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await response.json()) as any).errors[0].extensions.code).toBe('CORS_ORIGIN_NOT_ALLOWED');
    }
  });

  it('refuses a preflight for a method not in cors.methods', async () => {
    const response = await fetch(open.graphqlUrl, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('CORS_METHOD_NOT_ALLOWED');
  });

  it('gives an allowed origin Access-Control-Allow-Origin on actual requests, errors included; another origin none', async () => {
    const allowed = await postGraphQL(open.graphqlUrl, '{ categories { id } }', undefined, { origin: 'https://app.example.com' });
    expect(allowed.status).toBe(200);
    const raw = await fetch(open.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.example.com' }, body: '{"query": "{ nope }"}' });
    expect(raw.status).toBe(400);
    expect(corsHeaders(raw)).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id',
      vary: 'Origin',
    });
    const other = await fetch(open.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{"query": "{ categories { id } }"}' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toBe('Origin');
  });

  it('allow_any_origin answers *; with a fixed allow_headers list that list is sent', async () => {
    const any = await gateway((s) => {
      s.cors.allow_any_origin = true;
      s.cors.allow_headers = ['content-type'];
    });
    const response = await preflight(any.graphqlUrl, 'https://anywhere.example', { 'access-control-request-headers': 'x-anything' });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('by default allows no other origin at all (the explorer is same-origin)', async () => {
    const response = await preflight(mesh.gateway.graphqlUrl, 'https://studio.apollographql.com');
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const actual = await fetch(mesh.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://studio.apollographql.com' }, body: '{"query": "{ __typename }"}' });
    expect(actual.status).toBe(200);
    expect(corsHeaders(actual)).toEqual({});
  });

  it('refuses settings browsers would refuse', () => {
    const cors = defaultSettings(false).cors;
    expect(() => new Cors({ ...cors, allow_any_origin: true, allow_credentials: true })).toThrow(/cors\.allow_credentials: cannot be combined with cors\.allow_any_origin/);
    expect(() => new Cors({ ...cors, origins: ['https://app.example.com/'] })).toThrow(/cors\.origins: "https:\/\/app\.example\.com\/": an origin has no path/);
  });
});

describe('schema details (supergraph.introspection, supergraph.suggestions)', () => {
  const INTROSPECTION = '{ __schema { types { name } } }';

  it("introspection 'authenticated': an anonymous caller is refused with 401 INTROSPECTION_DISABLED and learns no type name", async () => {
    const g = await gateway((s) => (s.supergraph.introspection = 'authenticated'));
    const response = await fetch(g.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: INTROSPECTION }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'INTROSPECTION_DISABLED' } }] });
    expect(text).not.toMatch(/Customer|Product|Query/);
    // Through a fragment and under an alias too; __typename alone is always fine.
    const hidden = await postGraphQL(g.graphqlUrl, '{ ...I } fragment I on Query { t: __type(name: "Customer") { name } }');
    expect(hidden.body.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    expect((await postGraphQL(g.graphqlUrl, '{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });

  it("introspection 'authenticated': a caller with a valid token gets the schema", async () => {
    const g = await gateway((s) => (s.supergraph.introspection = 'authenticated'));
    const result = await postGraphQL(g.graphqlUrl, INTROSPECTION, undefined, { authorization: `Bearer ${await token()}` });
    expect(result.status).toBe(200);
    expect(result.body.data.__schema.types.map((t: { name: string }) => t.name)).toContain('Customer');
  });

  it('introspection false: refused with 400 INTROSPECTION_DISABLED, even with a token', async () => {
    const g = await gateway((s) => (s.supergraph.introspection = false));
    const result = await postGraphQL(g.graphqlUrl, INTROSPECTION, undefined, await fullAccess());
    expect({ status: result.status, code: result.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'INTROSPECTION_DISABLED' });
  });

  it('suggestions false: a misspelt field or enum value gets no "Did you mean"; true (development) does', async () => {
    const quiet = await gateway((s) => (s.supergraph.suggestions = false));
    const field = await postGraphQL(quiet.graphqlUrl, '{ categories { nmae } }');
    expect(field.status).toBe(400);
    expect(field.body.errors?.[0]?.message).toBe('Cannot query field "nmae" on type "Category".');
    const variable = await postGraphQL(quiet.graphqlUrl, 'query($r: Region) { customers(region: $r) { id } }', { r: 'EUROP' });
    expect(variable.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(variable.body.errors?.[0]?.message).not.toMatch(/Did you mean|EUROPE/);
    const chatty = await postGraphQL(mesh.gateway.graphqlUrl, '{ categories { nmae } }');
    expect(chatty.body.errors?.[0]?.message).toMatch(/Did you mean "name"\?/);
  });

  it('production defaults: introspection needs a token, no suggestions', () => {
    expect(defaultSettings(true).supergraph).toEqual({ introspection: 'authenticated', suggestions: false });
    expect(defaultSettings(false).supergraph).toEqual({ introspection: true, suggestions: true });
  });
});
