import type { ForwardedIdentity } from '../mesh/identity.js';

/** Matches no row's region: what a malformed `region` claim is restricted to. */
export const NO_REGION = '\u0000no-region';

/**
 * The mesh's row-level rule: a token carrying a `region` claim sees only that region's rows
 * (customers, and orders shipped there). No claim means no restriction; aggregates are not
 * row-level data and stay mesh-wide.
 *
 * A claim that is present but is not a non-empty string (a multi-valued array from the identity
 * provider, a number, "", null) fails closed: it matches no region. Reading it as "no claim"
 * would lift the restriction and show every region's rows.
 */
export function visibleRegion(identity: ForwardedIdentity): string | null {
  const region = identity.claims.region;
  if (region === undefined) return null;
  return typeof region === 'string' && region !== '' ? region : NO_REGION;
}
