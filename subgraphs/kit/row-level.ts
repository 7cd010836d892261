import type { ForwardedIdentity } from './forwarded-identity.js';

/**
 * The mesh's row-level rule: a token carrying a `region` claim sees only that region's rows
 * (customers, and orders shipped there). No claim means no restriction; aggregates are not
 * row-level data and stay mesh-wide.
 */
export function visibleRegion(identity: ForwardedIdentity): string | null {
  const region = identity.claims.region;
  return typeof region === 'string' && region !== '' ? region : null;
}
