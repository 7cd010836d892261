import { LRUCache } from 'lru-cache';
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';

/**
 * The contract between the gateway and every subgraph: who is asking, signed by the gateway.
 *
 * The gateway verifies the client's token, then forwards a short-lived JWT (HS256, key
 * MESH_SIGNING_KEY shared by gateway and subgraphs) in `x-mesh-identity`. A subgraph refuses any
 * request without a valid one, so calling a subgraph directly, around the gateway and its
 * authorization, gets nothing.
 */
export const IDENTITY_HEADER = 'x-mesh-identity';
const ISSUER = 'data-mesh-gateway';
const AUDIENCE = 'data-mesh-subgraphs';
const LIFETIME_SECONDS = 300;

export const DEV_SIGNING_KEY = 'dev-only-mesh-signing-key-change-me-0123456789';

export interface ForwardedIdentity {
  /** False for requests that came without a token. */
  authenticated: boolean;
  subject: string | null;
  scopes: string[];
  /** Only the claims the governance file forwards (department, region, role…). */
  claims: Record<string, unknown>;
  /** The request's purpose (X-Data-Purpose, or the governance file's default); absent = none. */
  purpose?: string;
  /**
   * Row-level restrictions per entity (e.g. `Customer`), evaluated by the gateway from the
   * governance file's `rowRules` for this caller and purpose. Absent = no restriction. The kit
   * applies them to every row about the entity (subgraphs/kit/row-level.ts).
   */
  rows?: Readonly<Record<string, RowScope>>;
  /**
   * Coordinates (`Type.field`) this caller may only see masked, as the gateway's masking rules
   * decided: the subgraph that resolves one applies the field's descriptor mask, or refuses the
   * field when it declares none (subgraphs/kit/masking.ts). Absent = nothing masked.
   */
  masked?: ReadonlySet<string>;
}

/** What one entity's row rules leave visible to a request. */
export interface RowScope {
  /**
   * Attribute → the only value visible (e.g. `{ region: "EUROPE" }`). `null` matches no row: a
   * claim that is present but malformed restricts to nothing, never to everything.
   */
  match: Readonly<Record<string, string | null>>;
  /**
   * Consent applies (the request's purpose is one the consent rule covers): rows about a channel
   * the person withdrew consent for are left out.
   */
  consent: boolean;
}

/** The identity of a request without a token, and of the gateway's own calls. Shared, never mutated. */
export const ANONYMOUS_IDENTITY: ForwardedIdentity = Object.freeze({ authenticated: false, subject: null, scopes: [], claims: {} }) as ForwardedIdentity;

export class IdentityError extends Error {
  readonly code = 'UNAUTHENTICATED_SUBGRAPH_REQUEST';
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * Signs identities, reusing each signed header until shortly before it expires. The cache is keyed
 * by the identity object itself (no per-request serialisation): callers pass the same object for
 * the same caller — the gateway derives one per verified token, and ANONYMOUS_IDENTITY is shared.
 */
export class IdentitySigner {
  private readonly key: Uint8Array;
  private readonly cache = new WeakMap<ForwardedIdentity, { header: string; refreshAt: number }>();

  constructor(secret: string) {
    this.key = keyOf(secret);
  }

  async header(identity: ForwardedIdentity): Promise<string> {
    const now = Date.now();
    const hit = this.cache.get(identity);
    if (hit && hit.refreshAt > now) return hit.header;
    const payload: Record<string, unknown> = { auth: identity.authenticated, scope: identity.scopes.join(' '), claims: identity.claims };
    if (identity.purpose) payload.purpose = identity.purpose;
    if (identity.rows) payload.rows = identity.rows;
    if (identity.masked?.size) payload.mask = [...identity.masked];
    const header = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(identity.subject ?? 'anonymous')
      .setIssuedAt()
      .setExpirationTime(Math.floor(now / 1000) + LIFETIME_SECONDS)
      .sign(this.key);
    this.cache.set(identity, { header, refreshAt: now + (LIFETIME_SECONDS - 60) * 1000 });
    return header;
  }
}

/** Verifies the gateway's signature; verified headers are remembered until they expire. */
export class IdentityVerifier {
  private readonly key: Uint8Array;
  // Bounded (LRU, by count and by the tokens' total length): distinct tokens cannot grow it.
  private readonly cache = new LRUCache<string, { identity: ForwardedIdentity; expiresAt: number }>({ max: 10_000, maxSize: 32 * 1024 * 1024, sizeCalculation: (_, key) => key.length + 1 });

  constructor(secret: string) {
    this.key = keyOf(secret);
  }

  async verify(header: string | string[] | undefined): Promise<ForwardedIdentity> {
    if (typeof header !== 'string' || header === '') {
      throw new IdentityError('This subgraph only answers the gateway: missing signed identity');
    }
    const hit = this.cache.get(header);
    if (hit && hit.expiresAt > Date.now()) return hit.identity;
    try {
      const { payload } = await jwtVerify(header, this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      const identity: ForwardedIdentity = {
        authenticated: payload.auth === true,
        subject: payload.auth === true ? (payload.sub ?? null) : null,
        scopes: typeof payload.scope === 'string' && payload.scope ? payload.scope.split(' ') : [],
        claims: (payload.claims as Record<string, unknown>) ?? {},
      };
      if (typeof payload.purpose === 'string' && payload.purpose) identity.purpose = payload.purpose;
      if (payload.rows !== undefined) identity.rows = rowScopes(payload.rows);
      if (Array.isArray(payload.mask) && payload.mask.length) identity.masked = new Set(payload.mask.map(String));
      this.cache.set(header, { identity, expiresAt: (payload.exp ?? 0) * 1000 });
      return identity;
    } catch (error) {
      const reason = error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid';
      throw new IdentityError(`This subgraph only answers the gateway: ${reason} signed identity`);
    }
  }
}

/**
 * The signed `rows` claim, read strictly: the gateway wrote it, but a shape this version does not
 * understand must restrict (match nothing), never lift a restriction.
 */
function rowScopes(value: unknown): Record<string, RowScope> {
  const out: Record<string, RowScope> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { '*': { match: { '*': null }, consent: true } };
  for (const [entity, raw] of Object.entries(value as Record<string, unknown>)) {
    const scope = (typeof raw === 'object' && raw !== null ? raw : {}) as { match?: unknown; consent?: unknown };
    const match: Record<string, string | null> = {};
    if (typeof scope.match === 'object' && scope.match !== null && !Array.isArray(scope.match)) {
      for (const [attribute, v] of Object.entries(scope.match)) match[attribute] = typeof v === 'string' && v !== '' ? v : null;
    } else if (scope.match !== undefined) match['*'] = null;
    out[entity] = { match, consent: scope.consent !== false };
  }
  return out;
}

/** The signing key from the environment; the development default is loud about itself. */
export function signingKeyFromEnv(env = process.env, warn: (message: string) => void = console.warn): string {
  const key = env.MESH_SIGNING_KEY;
  if (key) {
    if (key.length < 32) throw new Error('MESH_SIGNING_KEY must be at least 32 characters');
    return key;
  }
  if (env.NODE_ENV === 'production') throw new Error('MESH_SIGNING_KEY is required when NODE_ENV=production');
  warn('MESH_SIGNING_KEY is not set: using the built-in development key. For development only: anyone who has this repository can forge identities.');
  return DEV_SIGNING_KEY;
}
