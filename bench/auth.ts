/**
 * Credentials the benchmark uses. Governance (JWT authentication, field authorization, a signed
 * identity forwarded to the subgraphs) may or may not be active in the gateway under test: the
 * harness always sends the token, and a gateway without governance simply ignores it.
 *
 * When a query in bench/queries.ts starts needing another scope or claim, update the two
 * constants below (the pre-load check reports UNAUTHORIZED_FIELD_OR_TYPE errors if one is missing).
 */
import { SignJWT } from 'jose';

/** Every scope the benchmark queries need (space-separated in the token's `scope` claim). */
export const BENCH_SCOPES = [
  'customers:read',
  'customers:pii:read',
  'products:read',
  'sales:read',
  'finance:read',
  'marketing:read',
];

/**
 * Claims that policies in gateway/governance/policies.yaml look at. No `region`: a region claim
 * is a row-level filter and would make our gateway return fewer rows than the others.
 */
export const BENCH_CLAIMS: Record<string, string> = {
  department: 'finance',
  role: 'executive',
};

/** HS256 secret our gateway verifies client tokens with (it reads JWT_SECRET). */
export const BENCH_JWT_SECRET = 'bench-only-jwt-secret-0123456789abcdef0123456789';
/** Key the gateway signs the forwarded identity with and the subgraphs verify (MESH_SIGNING_KEY). */
export const BENCH_MESH_SIGNING_KEY = 'bench-only-mesh-signing-key-0123456789abcdef012345';

/** Mirrors subgraphs/mesh/identity.ts (header name, issuer, audience). */
export const IDENTITY_HEADER = 'x-mesh-identity';
const IDENTITY_ISSUER = 'data-mesh-gateway';
const IDENTITY_AUDIENCE = 'data-mesh-subgraphs';

/** Environment for our gateway and for the subgraphs. */
export function governanceEnv(): Record<string, string> {
  return { JWT_SECRET: BENCH_JWT_SECRET, MESH_SIGNING_KEY: BENCH_MESH_SIGNING_KEY };
}

/** A client bearer token for our gateway, valid for `hours`; `subject` names the caller. */
export async function mintClientToken(subject = 'bench', hours = 4): Promise<string> {
  return new SignJWT({ scope: BENCH_SCOPES.join(' '), ...BENCH_CLAIMS })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(`${hours}h`)
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
}

/**
 * The headers the gateways without governance (plain Apollo Gateway, Hive Gateway) attach to
 * every subgraph request, so that subgraphs that only answer the gateway's signed identity answer
 * them too, with the identity our gateway would forward for `subject`. With distinct callers the
 * client sends one per user and those gateways relay it, so — as with ours — only requests of the
 * same user can share a subgraph fetch.
 */
export async function baselineSubgraphHeaders(subject = 'bench', hours = 4): Promise<Record<string, string>> {
  const identity = await new SignJWT({ auth: true, scope: BENCH_SCOPES.join(' '), claims: BENCH_CLAIMS })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(IDENTITY_ISSUER)
    .setAudience(IDENTITY_AUDIENCE)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(`${hours}h`)
    .sign(new TextEncoder().encode(BENCH_MESH_SIGNING_KEY));
  return { [IDENTITY_HEADER]: identity };
}
