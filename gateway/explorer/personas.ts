import { mintToken } from '../authentication/mint-token.js';
import type { Authorizer } from '../authorization/authorizer.js';
import { isSatisfied, purposeAllows, type Grants } from '../authorization/requirement.js';
import type { GatewayConfig } from '../config/gateway-config.js';

/**
 * The explorer's development personas: typical consumers of the mesh, each with a token signed by
 * the gateway's development secret and, for marketing, the purpose its consent rules require. The
 * page shows what each one grants, computed here from the served supergraph's security index, the
 * policies and the row rules, so the explanation is the enforcement's own answer.
 */
interface PersonaDefinition {
  id: string;
  label: string;
  description: string;
  scopes: string[];
  claims: Record<string, string>;
  /** The X-Data-Purpose header it sends (none: the governance file's default purpose). */
  purpose: string | null;
}

const DEFINITIONS: readonly PersonaDefinition[] = [
  { id: 'anonymous', label: 'Anonymous', description: 'No token: public fields only.', scopes: [], claims: {}, purpose: null },
  {
    id: 'analyst',
    label: 'Analyst',
    description: 'Sales analytics: orders and trends, no personal data, no finance.',
    scopes: ['sales:read'],
    claims: { department: 'analytics' },
    purpose: 'analytics',
  },
  {
    id: 'finance',
    label: 'Finance',
    description: 'Finance staff: personal data, sales, invoices, costs and margins.',
    scopes: ['customers:pii:read', 'sales:read'],
    claims: { department: 'finance' },
    purpose: null,
  },
  {
    id: 'marketing',
    label: 'Marketing (Europe)',
    description: 'A regional marketing team, for the marketing purpose: consent and campaign responses of European customers.',
    scopes: ['marketing:consent:read'],
    claims: { department: 'marketing', region: 'EUROPE' },
    purpose: 'marketing',
  },
];

/** The persona the explorer starts with: it may run the whole example query. */
export const DEFAULT_PERSONA = 'finance';

/** What the page receives for one persona. */
export interface Persona {
  id: string;
  label: string;
  description: string;
  /** Request headers the page sets (Authorization, X-Data-Purpose), unless the Headers tab sets them. */
  headers: Record<string, string>;
  scopes: string[];
  claims: Record<string, string>;
  /** The purpose requests declare: the header's, or the governance file's default. */
  purpose: string;
  purposeHeader: string | null;
  grants: {
    /** Named policies (policies.yaml) its requests satisfy. */
    policies: string[];
    /** Row rules that narrow what it sees, in words. */
    rows: string[];
    /** Protected fields (`Type.field`) it may read, and those it may not. */
    readable: number;
    denied: string[];
  };
  /** When its token expires (ISO time): the page is rendered with fresh tokens at each start. */
  expiresAt: string;
}

const TOKEN_LIFETIME_SECONDS = 12 * 3600;

/**
 * Personas only on the development secret and never with NODE_ENV=production: their tokens are in
 * the page, readable by anyone who can open it.
 */
export function personasEnabled(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  return config.developmentSecret && env.NODE_ENV !== 'production';
}

export async function developmentPersonas(config: GatewayConfig, authorizer: Authorizer): Promise<Persona[]> {
  const expires = Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS;
  return Promise.all(DEFINITIONS.map(async (d) => describePersona(d, authorizer, await personaToken(d, config, expires), expires)));
}

function personaToken(d: PersonaDefinition, config: GatewayConfig, expires: number): Promise<string> | null {
  if (d.scopes.length === 0 && Object.keys(d.claims).length === 0) return null;
  return mintToken({
    secret: config.jwt.secret!,
    subject: `explorer-${d.id}`,
    scopes: d.scopes,
    claims: d.claims,
    expiresIn: expires,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
}

function describePersona(d: PersonaDefinition, authorizer: Authorizer, token: string | null, expires: number): Persona {
  const policies = authorizer.policies;
  const purpose = d.purpose ?? policies.defaultPurpose;
  const scopes = new Set(d.scopes);
  const satisfied = [...authorizer.index.policyNames]
    .sort()
    .filter((name) => token !== null && policies.evaluate(name, { claims: d.claims, scopes: d.scopes, request: { purpose, operationName: '' } }));
  const grants: Grants = { authenticated: token !== null, scopes, policy: (name) => satisfied.includes(name) };
  let readable = 0;
  const denied: string[] = [];
  for (const [coordinate, requirement] of [...authorizer.index.fields].sort(([a], [b]) => a.localeCompare(b))) {
    if (isSatisfied(requirement, grants) && purposeAllows(requirement, purpose)) readable++;
    else denied.push(coordinate);
  }
  const rows: string[] = [];
  for (const rule of policies.rowRules.rules) {
    if (rule.claim !== null && rule.attribute !== null && d.claims[rule.claim] !== undefined) {
      rows.push(`${rule.id}: only ${rule.entity} rows whose ${rule.attribute} is ${d.claims[rule.claim]} (and what belongs to them)`);
    } else if (rule.consent !== null && rule.purposes.includes(purpose)) {
      rows.push(`${rule.id}: ${rule.description}`);
    }
  }
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (d.purpose) headers['X-Data-Purpose'] = d.purpose;
  return {
    id: d.id,
    label: d.label,
    description: d.description,
    headers,
    scopes: d.scopes,
    claims: d.claims,
    purpose,
    purposeHeader: d.purpose,
    grants: { policies: satisfied, rows, readable, denied },
    expiresAt: new Date(expires * 1000).toISOString(),
  };
}
