import type { IncomingMessage } from 'node:http';
import { HttpError } from '../../subgraphs/mesh/http.js';
import { ANONYMOUS_IDENTITY, type ForwardedIdentity, type IdentitySigner } from '../../subgraphs/mesh/identity.js';
import type { Caller } from '../authorization/authorizer.js';
import { AuthenticationError, type Identity, type JwtAuthenticator } from './jwt-authenticator.js';

/** Who is asking, as the gateway's layers need it: the authorizer's caller and the identity subgraphs will see. */
export interface RequestIdentity {
  caller: Caller;
  /** Signed identity forwarded to every subgraph fetch of this request. */
  identityHeader: string;
}

type Derived = { caller: Omit<Caller, 'purpose'>; forwarded: ForwardedIdentity };

/**
 * From a request's Authorization header to its identity. An invalid token is a 401, never
 * anonymous. What a verified identity gives is derived once per token: the authenticator hands back
 * the same Identity object for a token it has verified, so the scopes set, the forwarded identity
 * and (through the signer's cache) its signed header are not rebuilt per request.
 */
export class RequestIdentities {
  private readonly derived = new WeakMap<Identity, Derived>();
  private readonly anonymous: Derived = { caller: { authenticated: false, scopes: new Set<string>(), claims: {} }, forwarded: ANONYMOUS_IDENTITY };

  constructor(
    private readonly authenticator: JwtAuthenticator,
    private readonly signer: IdentitySigner,
    /** Claims forwarded to subgraphs (the governance file's `forwardedClaims`). */
    private readonly forwardedClaims: readonly string[],
  ) {}

  async of(req: IncomingMessage): Promise<RequestIdentity> {
    let identity: Identity | null;
    try {
      identity = await this.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) throw new HttpError(error.code === 'TOKEN_VERIFICATION_UNAVAILABLE' ? 503 : 401, error.code, error.message);
      throw error;
    }
    const { caller, forwarded } = this.derive(identity);
    const purpose = req.headers['x-data-purpose'];
    return {
      caller: { ...caller, purpose: typeof purpose === 'string' ? purpose : '' },
      identityHeader: await this.signer.header(forwarded),
    };
  }

  private derive(identity: Identity | null): Derived {
    if (!identity) return this.anonymous;
    let entry = this.derived.get(identity);
    if (!entry) {
      const claims = Object.fromEntries(this.forwardedClaims.filter((c) => identity.claims[c] !== undefined).map((c) => [c, identity.claims[c]]));
      entry = {
        caller: { authenticated: true, scopes: new Set(identity.scopes), claims: identity.claims },
        forwarded: { authenticated: true, subject: identity.subject, scopes: identity.scopes, claims },
      };
      this.derived.set(identity, entry);
    }
    return entry;
  }
}
