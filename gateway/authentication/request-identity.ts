import type { IncomingMessage } from 'node:http';
import { canonicalJson } from '../../subgraphs/mesh/canonical-json.js';
import { HttpError } from '../../subgraphs/mesh/http.js';
import { ANONYMOUS_IDENTITY, type ForwardedIdentity, type IdentitySigner } from '../../subgraphs/mesh/identity.js';
import type { Caller } from '../authorization/authorizer.js';
import { AuthenticationError, type Identity, type JwtAuthenticator } from './jwt-authenticator.js';

/** Who is asking, as the gateway's layers need it: the authorizer's caller and the identity subgraphs will see. */
export interface RequestIdentity {
  caller: Caller;
  /** Signed identity forwarded to every subgraph fetch of this request. */
  identityHeader: string;
  /**
   * Equal for two requests exactly when everything authorization depends on is: the verified
   * claims (scopes, policy facts, row-level claims) and the purpose. The forwarded identity is
   * derived from them, so requests with equal keys may share an execution.
   */
  sharingKey: string;
}

type Derived = {
  caller: Omit<Caller, 'purpose'>;
  /** What subgraphs see, per purpose (the row rules depend on it); a few purposes per token. */
  forwarded: Map<string, ForwardedIdentity>;
  claims: Record<string, unknown>;
  base: ForwardedIdentity;
  /** The verified claims as canonical JSON ('' when anonymous). */
  claimsKey: string;
};

/** What the governance file says about purposes and rows (PolicyBook's view of it). */
export interface RowGovernance {
  defaultPurpose: string;
  rowRules: { scopeFor(claims: Record<string, unknown>, purpose: string): ForwardedIdentity['rows'] };
}

const NO_ROW_RULES: RowGovernance = { defaultPurpose: '', rowRules: { scopeFor: () => undefined } };
const PURPOSES_PER_TOKEN = 8;
let unsharedTokens = 0;

/**
 * From a request's Authorization header to its identity. An invalid token is a 401, never
 * anonymous. What a verified identity gives is derived once per token: the authenticator hands back
 * the same Identity object for a token it has verified, so the scopes set, the forwarded identity
 * and (through the signer's cache) its signed header are not rebuilt per request.
 */
export class RequestIdentities {
  private readonly derived = new WeakMap<Identity, Derived>();
  private readonly anonymous: Derived = {
    caller: { authenticated: false, scopes: new Set<string>(), claims: {} },
    forwarded: new Map(),
    claims: {},
    base: ANONYMOUS_IDENTITY,
    claimsKey: '',
  };

  constructor(
    private readonly authenticator: JwtAuthenticator,
    private readonly signer: IdentitySigner,
    /** Claims forwarded to subgraphs (the governance file's `forwardedClaims`). */
    private readonly forwardedClaims: readonly string[],
    /** Default purpose and row rules (the governance file's `purposes` and `rowRules`). */
    private readonly governance: RowGovernance = NO_ROW_RULES,
  ) {}

  async of(req: IncomingMessage): Promise<RequestIdentity> {
    let identity: Identity | null;
    try {
      identity = await this.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) throw new HttpError(error.code === 'TOKEN_VERIFICATION_UNAVAILABLE' ? 503 : 401, error.code, error.message);
      throw error;
    }
    const derived = this.derive(identity);
    const purpose = purposeOf(req.headers['x-data-purpose'], this.governance.defaultPurpose);
    return {
      caller: { ...derived.caller, purpose },
      identityHeader: await this.signer.header(this.forwardedFor(derived, purpose)),
      sharingKey: `${purpose}\n${derived.claimsKey}`,
    };
  }

  /**
   * The identity subgraphs see: the token's, plus the purpose and what the row rules leave
   * visible to it. One object per (token, purpose), so the signer's cache keeps working.
   */
  private forwardedFor(derived: Derived, purpose: string): ForwardedIdentity {
    let forwarded = derived.forwarded.get(purpose);
    if (!forwarded) {
      const rows = this.governance.rowRules.scopeFor(derived.claims, purpose);
      forwarded = purpose === '' && rows === undefined ? derived.base : { ...derived.base, ...(purpose ? { purpose } : {}), ...(rows ? { rows } : {}) };
      // Bounded: a client cycling through purposes gets a fresh (uncached) identity beyond a few.
      if (derived.forwarded.size >= PURPOSES_PER_TOKEN) derived.forwarded.delete(derived.forwarded.keys().next().value!);
      derived.forwarded.set(purpose, forwarded);
    }
    return forwarded;
  }

  private derive(identity: Identity | null): Derived {
    if (!identity) return this.anonymous;
    let entry = this.derived.get(identity);
    if (!entry) {
      const claims = Object.fromEntries(this.forwardedClaims.filter((c) => identity.claims[c] !== undefined).map((c) => [c, identity.claims[c]]));
      entry = {
        caller: { authenticated: true, scopes: new Set(identity.scopes), claims: identity.claims },
        forwarded: new Map(),
        claims: identity.claims,
        base: { authenticated: true, subject: identity.subject, scopes: identity.scopes, claims },
        // A verified token always has claims: never '' (the anonymous key). Null (too deep) never shares.
        claimsKey: canonicalJson(identity.claims) ?? `unshared:${++unsharedTokens}`,
      };
      this.derived.set(identity, entry);
    }
    return entry;
  }
}

/**
 * The request's purpose: its X-Data-Purpose header, or the governance file's default when it sends
 * none. A purpose is lowercase words joined by `-` (at most 64 characters): anything else is a 400,
 * never silently "no purpose".
 */
export function purposeOf(header: string | string[] | undefined, fallback: string): string {
  if (header === undefined || header === '') return fallback;
  const value = Array.isArray(header) ? header.join(',') : header.trim();
  if (value.length > 64 || !/^[a-z][a-z0-9-]*$/.test(value)) {
    throw new HttpError(400, 'INVALID_DATA_PURPOSE', 'X-Data-Purpose must be one purpose: lowercase words joined by "-" (e.g. marketing), at most 64 characters');
  }
  return value;
}
