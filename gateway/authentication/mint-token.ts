import { SignJWT } from 'jose';

export interface TokenRequest {
  secret: string;
  subject?: string;
  scopes?: string[];
  claims?: Record<string, unknown>;
  /** e.g. "1h", "30m", or seconds. */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
}

/** Mints an HS256 token: development tokens (`npm run token`), the explorer's dev header, tests. */
export function mintToken(request: TokenRequest): Promise<string> {
  let jwt = new SignJWT({ ...request.claims, ...(request.scopes?.length ? { scope: request.scopes.join(' ') } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.subject ?? 'developer')
    .setIssuedAt()
    .setExpirationTime(request.expiresIn ?? '1h');
  if (request.issuer) jwt = jwt.setIssuer(request.issuer);
  if (request.audience) jwt = jwt.setAudience(request.audience);
  return jwt.sign(new TextEncoder().encode(request.secret));
}
