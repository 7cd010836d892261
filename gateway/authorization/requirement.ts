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
}

export const NO_REQUIREMENT: Requirement = Object.freeze({ authenticated: false, scopes: null, policies: null }) as Requirement;

export const isEmpty = (r: Requirement): boolean => !r.authenticated && r.scopes === null && r.policies === null;

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
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return {
    authenticated: a.authenticated || b.authenticated,
    scopes: andDnf(a.scopes, b.scopes),
    policies: andDnf(a.policies, b.policies),
  };
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
