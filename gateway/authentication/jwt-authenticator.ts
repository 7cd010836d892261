import { LRUCache } from 'lru-cache';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../config/config-error.js';

/** A verified caller. Anonymous requests have no Identity at all. */
export interface Identity {
  subject: string | null;
  scopes: string[];
  claims: JWTPayload;
}

/** A token was presented and is not acceptable: HTTP 401, never "anonymous". */
export class AuthenticationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface JwtSettings {
  /** HS256 shared secret (development, tests). */
  secret?: string;
  /** JWKS endpoint (RS256/ES256… in production). */
  jwksUrl?: string;
  /** JWKS as a local JSON file. */
  jwksFile?: string;
  issuer?: string;
  audience?: string;
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Verifies bearer JWTs with `jose`. Verified tokens are cached until they expire, so a client
 * reusing its token pays for the signature check once.
 */
export class JwtAuthenticator {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  // Bounded (LRU, by count and by the tokens' total length): distinct tokens cannot grow it.
  private readonly cache = new LRUCache<string, { identity: Identity; expiresAt: number }>({ max: 10_000, maxSize: 32 * 1024 * 1024, sizeCalculation: (_, key) => key.length + 1 });

  constructor(private readonly settings: JwtSettings) {
    const sources = [settings.secret, settings.jwksUrl, settings.jwksFile].filter(Boolean).length;
    if (sources !== 1) throw new ConfigError('environment', 'JWT_SECRET / JWKS_URL / JWKS_FILE', 'set exactly one');
    if (settings.secret) {
      this.key = new TextEncoder().encode(settings.secret);
      this.algorithms = ['HS256'];
    } else if (settings.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(settings.jwksUrl));
      this.algorithms = ASYMMETRIC;
    } else {
      let jwks: unknown;
      try {
        jwks = JSON.parse(readFileSync(settings.jwksFile!, 'utf8'));
      } catch (error) {
        throw new ConfigError(settings.jwksFile!, null, `cannot read JWKS: ${(error as Error).message}`);
      }
      this.key = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
      this.algorithms = ASYMMETRIC;
    }
  }

  /** null = no token (anonymous). Throws AuthenticationError for any token that does not verify. */
  async authenticate(authorization: string | undefined): Promise<Identity | null> {
    if (authorization === undefined || authorization === '') return null;
    const match = /^Bearer +([^ ]+)$/i.exec(authorization.trim());
    if (!match) throw new AuthenticationError('INVALID_AUTHORIZATION_HEADER', 'The Authorization header must be "Bearer <token>"');
    const token = match[1]!;
    const hit = this.cache.get(token);
    if (hit && hit.expiresAt > Date.now()) return hit.identity;
    try {
      const { payload } = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
      });
      const identity: Identity = {
        subject: payload.sub ?? null,
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        claims: payload,
      };
      // Re-verified at least every five minutes (a key removed from the JWKS stops working within
      // that), and at `exp` at the latest; tokens without `exp` after a minute.
      const expiresAt = Math.min(payload.exp ? payload.exp * 1000 : Date.now() + 60_000, Date.now() + 300_000);
      this.cache.set(token, { identity, expiresAt });
      return identity;
    } catch (error) {
      throw toAuthenticationError(error, token);
    }
  }
}

function toAuthenticationError(error: unknown, token: string): AuthenticationError {
  if (error instanceof errors.JWTExpired) return new AuthenticationError('TOKEN_EXPIRED', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new AuthenticationError('TOKEN_NOT_YET_VALID', 'The token is not valid yet (nbf)');
    if (error.claim === 'iss') return new AuthenticationError('INVALID_TOKEN_ISSUER', 'The token was issued by an unexpected issuer');
    if (error.claim === 'aud') return new AuthenticationError('INVALID_TOKEN_AUDIENCE', 'The token is not meant for this gateway (audience)');
    if (error.claim === 'iat') return new AuthenticationError('INVALID_TOKEN', 'The token has an invalid issue time');
    return new AuthenticationError('INVALID_TOKEN', `The token has an invalid "${error.claim}" claim`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    let alg = 'unknown';
    try {
      alg = String(decodeProtectedHeader(token).alg);
    } catch {}
    return new AuthenticationError('UNSUPPORTED_TOKEN_ALGORITHM', `Tokens signed with "${alg}" are not accepted`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('INVALID_TOKEN_SIGNATURE', 'The token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey) return new AuthenticationError('UNKNOWN_SIGNING_KEY', 'No known key matches the token');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID') {
    return new AuthenticationError('TOKEN_VERIFICATION_UNAVAILABLE', 'The signing keys could not be fetched');
  }
  return new AuthenticationError('MALFORMED_TOKEN', 'The token is not a well-formed JWT');
}
