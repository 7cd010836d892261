/**
 * What it takes to read one schema element, in the shape of Apollo Router's directives:
 * `@authenticated`, `@requiresScopes(scopes: [[…]])`, `@policy(policies: [[…]])`.
 * Scopes and policies are in disjunctive normal form: the outer list is OR, each inner list AND
 * (`[["a","b"],["c"]]` = (a AND b) OR c). `null` means "no such requirement".
 */
export interface Requirement {
  authenticated: boolean;
  scopes: string[][] | null;
  policies: string[][] | null;
  /**
   * Purpose limitation (the governance spec's `@purposes`), not authorization: the request's
   * purpose must be one of these (sorted). Absent = any purpose. Several are AND-ed: intersected.
   */
  purposes?: readonly string[];
}

export const NO_REQUIREMENT: Requirement = Object.freeze({ authenticated: false, scopes: null, policies: null }) as Requirement;

/** No authorization requirement (purposes aside: a field limited to some purposes is still public). */
export const isEmpty = (r: Requirement): boolean => !r.authenticated && r.scopes === null && r.policies === null;

/** Nothing at all to check: no authorization and no purpose limitation. */
export const isUnrestricted = (r: Requirement): boolean => isEmpty(r) && r.purposes === undefined;

/** Whether a request with this purpose may read what the requirement guards. */
export const purposeAllows = (r: Requirement, purpose: string): boolean => r.purposes === undefined || r.purposes.includes(purpose);

/** (A OR B) AND (C OR D) = AC OR AD OR BC OR BD, with duplicates and supersets pruned. */
function andDnf(a: string[][] | null, b: string[][] | null): string[][] | null {
  if (a === null) return b;
  if (b === null) return a;
  const product: string[][] = [];
  for (const x of a) for (const y of b) product.push([...new Set([...x, ...y])].sort());
  // A conjunction that contains another one is redundant under OR.
  const minimal = product.filter((c, i) => !product.some((d, j) => j !== i && d.length < c.length && d.every((s) => c.includes(s))));
  const seen = new Set<string>();
  return minimal.filter((c) => !seen.has(c.join('\u0000')) && seen.add(c.join('\u0000')));
}

export function and(a: Requirement, b: Requirement): Requirement {
  if (isUnrestricted(a)) return b;
  if (isUnrestricted(b)) return a;
  const r: Requirement = {
    authenticated: a.authenticated || b.authenticated,
    scopes: andDnf(a.scopes, b.scopes),
    policies: andDnf(a.policies, b.policies),
  };
  if (a.purposes !== undefined || b.purposes !== undefined) {
    r.purposes = a.purposes === undefined ? b.purposes : b.purposes === undefined ? a.purposes : a.purposes.filter((p) => b.purposes!.includes(p));
  }
  return r;
}

/** What a request brings to the check. Policies are decided by name, lazily. */
export interface Grants {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
  policy(name: string): boolean;
}

const satisfiesDnf = (dnf: string[][] | null, has: (atom: string) => boolean) => dnf === null || dnf.some((all) => all.every(has));

export function isSatisfied(r: Requirement, grants: Grants): boolean {
  // Router semantics: any requirement at all needs a valid token; scopes and policies need one too.
  if ((r.authenticated || r.scopes !== null || r.policies !== null) && !grants.authenticated) return false;
  return satisfiesDnf(r.scopes, (s) => grants.scopes.has(s)) && satisfiesDnf(r.policies, (p) => grants.policy(p));
}

/** Human-readable form, for the catalog and the docs: "authenticated", "scopes: a AND b OR c". */
export function describeRequirement(r: Requirement): string {
  const dnf = (d: string[][]) => d.map((all) => all.join(' AND ')).join(' OR ');
  const parts = [];
  if (r.authenticated) parts.push('authenticated');
  if (r.scopes) parts.push(`scopes: ${dnf(r.scopes)}`);
  if (r.policies) parts.push(`policies: ${dnf(r.policies)}`);
  return parts.length ? parts.join('; ') : 'public';
}
