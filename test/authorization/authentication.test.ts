import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../gateway/server/gateway-server.js';
import { postGraphQL, startMesh, testConfig, TEST_SECRET, type TestMesh } from '../helpers/mesh.js';

/** Invalid tokens are 401s with a code naming the reason: never served as anonymous. */
const ISSUER = 'https://id.example.com';
const AUDIENCE = 'data-mesh';
const QUERY = '{ products(first: 1) { name } }';

let mesh: TestMesh;
let strict: RunningGateway;
let jwks: RunningGateway;
let rsaKey: CryptoKey;
const secret = new TextEncoder().encode(TEST_SECRET);
const now = () => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>, build: (j: SignJWT) => SignJWT = (j) => j) =>
  build(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m')).sign(secret);

beforeAll(async () => {
  mesh = await startMesh();
  // The same supergraph behind a gateway that also checks issuer and audience…
  strict = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ jwt: { secret: TEST_SECRET, issuer: ISSUER, audience: AUDIENCE } }) });
  // …and one that verifies RS256 tokens against a JWKS file, as in production.
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  rsaKey = privateKey as CryptoKey;
  const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }));
  jwks = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ jwt: { jwksFile: join(dir, 'jwks.json') }, developmentSecret: false }) });
});
afterAll(async () => {
  await strict?.close();
  await jwks?.close();
  await mesh?.close();
});

const ask = (gateway: RunningGateway, authorization?: string) =>
  postGraphQL(gateway.graphqlUrl, QUERY, undefined, authorization ? { authorization } : {});

describe('authentication', () => {
  it('accepts a valid token with the right issuer and audience', async () => {
    const { status, body } = await ask(strict, `Bearer ${await sign({ scope: 'sales:read' })}`);
    expect(status).toBe(200);
    expect(body.data.products).toHaveLength(1);
  });

  it('serves a request without a token as anonymous', async () => {
    const { status, body } = await ask(strict);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  const invalid: [string, () => Promise<string>, string][] = [
    ['an expired token', () => sign({}, (j) => j.setExpirationTime(now() - 60)), 'TOKEN_EXPIRED'],
    ['a token not valid yet (nbf)', () => sign({}, (j) => j.setNotBefore(now() + 3600)), 'TOKEN_NOT_YET_VALID'],
    ['a token with a bad signature', async () => (await sign({})).slice(0, -4) + 'AAAA', 'INVALID_TOKEN_SIGNATURE'],
    ['a token signed with another secret', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(40))), 'INVALID_TOKEN_SIGNATURE'],
    ['an unsigned token (alg: none)', async () => new UnsecuredJWT({ scope: 'customers:pii:read' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode(), 'UNSUPPORTED_TOKEN_ALGORITHM'],
    ['a token from another issuer', () => sign({}, (j) => j.setIssuer('https://evil.example.com')), 'INVALID_TOKEN_ISSUER'],
    ['a token for another audience', () => sign({}, (j) => j.setAudience('someone-else')), 'INVALID_TOKEN_AUDIENCE'],
    ['a malformed token', async () => 'not.a.jwt', 'MALFORMED_TOKEN'],
  ];
  it.each(invalid)('answers 401 for %s, with a code naming the reason', async (_name, make, code) => {
    const response = await fetch(strict.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await make()}` },
      body: JSON.stringify({ query: '{ customers(first: 1) { region } }' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
    const body = await response.json();
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe(code);
  });

  it('answers 401 for an Authorization header that is not a bearer token', async () => {
    const { status, body } = await ask(strict, 'Basic dXNlcjpwYXNz');
    expect(status).toBe(401);
    expect(body.errors![0].extensions!.code).toBe('INVALID_AUTHORIZATION_HEADER');
  });

  it('verifies RS256 tokens against a JWKS file, and refuses HS256 tokens there', async () => {
    const good = await new SignJWT({ scope: 'customers:pii:read' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('5m').sign(rsaKey);
    const ok = await postGraphQL(jwks.graphqlUrl, '{ customer(id: "3") { email } }', undefined, { authorization: `Bearer ${good}` });
    expect(ok.status).toBe(200);
    expect(ok.body.data.customer.email).toMatch(/@example\.com$/);
    const hs = await ask(jwks, `Bearer ${await sign({})}`);
    expect(hs.status).toBe(401);
    expect(hs.body.errors![0].extensions!.code).toBe('UNSUPPORTED_TOKEN_ALGORITHM');
  });

  it('npm run token prints a token the gateway accepts, with scopes and claims', async () => {
    const printed = execFileSync(process.execPath, ['--import', 'tsx', 'gateway/cli/token.ts', '--scope', 'customers:pii:read sales:read', '--claim', 'department=finance'], {
      env: { ...process.env, JWT_SECRET: TEST_SECRET },
      encoding: 'utf8',
    }).trim();
    const { body } = await mesh.query('{ customer(id: "5") { email } product(id: "5") { unitCost } }', undefined, { authorization: `Bearer ${printed}` });
    expect(body.errors).toBeUndefined();
    expect(body.data.customer.email).toBeTruthy();
    expect(body.data.product.unitCost).toBeGreaterThan(0);
  });
});
