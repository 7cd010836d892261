import { isObjectType, type GraphQLSchema } from 'graphql';
import type { RowScope } from '../../subgraphs/mesh/identity.js';
import { ConfigError } from '../config/config-error.js';

/**
 * The governance file's row-level rules (`rowRules`), declared once per entity and evaluated by
 * the gateway for each request. The outcome travels to every subgraph in the signed identity
 * (`rows`), and the kit applies it to every row about the entity, in every domain
 * (subgraphs/kit/row-level.ts). Two kinds:
 *
 *   <id>: { entity: Customer, attribute: region, claim: region }
 *     rows about the entity are visible only when its `attribute` equals the token's `claim`. No
 *     claim: no restriction. A claim that is present but not one non-empty string matches no row.
 *   <id>: { entity: Customer, consent: marketing-consent, purposes: [marketing] }
 *     for a request whose purpose is listed, rows about a channel the person withdrew consent for
 *     (in the named product's decisions) are left out.
 */
export interface RowRule {
  id: string;
  description: string;
  entity: string;
  /** Match rules. */
  attribute: string | null;
  claim: string | null;
  /** Consent rules: the product whose decisions apply, and the purposes they apply to. */
  consent: string | null;
  purposes: string[];
}

const MATCH_KEYS = ['description', 'entity', 'attribute', 'claim'];
const CONSENT_KEYS = ['description', 'entity', 'consent', 'purposes'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PURPOSE = /^[a-z][a-z0-9-]*$/;

export class RowRules {
  readonly rules: RowRule[] = [];

  constructor(
    private readonly file: string,
    raw: unknown,
  ) {
    if (raw === undefined || raw === null) return;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(file, 'rowRules', 'must map rule ids to rules');
    for (const [id, def] of Object.entries(raw as Record<string, any>)) {
      const at = `rowRules.${id}`;
      if (typeof def !== 'object' || def === null) throw new ConfigError(file, at, 'must be a mapping (entity, and attribute + claim or consent + purposes)');
      const isConsent = def.consent !== undefined;
      const allowed = isConsent ? CONSENT_KEYS : MATCH_KEYS;
      for (const key of Object.keys(def)) {
        if (!allowed.includes(key)) throw new ConfigError(file, `${at}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
      }
      const name = (key: string) => {
        if (typeof def[key] !== 'string' || !NAME.test(def[key])) throw new ConfigError(file, `${at}.${key}`, 'missing: a GraphQL name');
        return def[key] as string;
      };
      const rule: RowRule = { id, description: String(def.description ?? ''), entity: name('entity'), attribute: null, claim: null, consent: null, purposes: [] };
      if (isConsent) {
        if (typeof def.consent !== 'string' || def.consent === '') throw new ConfigError(file, `${at}.consent`, 'must name the data product whose consent decisions apply');
        rule.consent = def.consent;
        if (!Array.isArray(def.purposes) || def.purposes.length === 0 || def.purposes.some((p: unknown) => typeof p !== 'string' || !PURPOSE.test(p))) {
          throw new ConfigError(file, `${at}.purposes`, 'must list the purposes consent applies to (lowercase, e.g. [marketing])');
        }
        rule.purposes = def.purposes;
      } else {
        rule.attribute = name('attribute');
        if (typeof def.claim !== 'string' || def.claim === '') throw new ConfigError(file, `${at}.claim`, 'missing: the claim the attribute must equal');
        rule.claim = def.claim;
      }
      this.rules.push(rule);
    }
  }

  /** Every rule names an entity of the supergraph, and a match rule one of its fields. */
  assertEntities(schema: GraphQLSchema): void {
    for (const rule of this.rules) {
      const type = schema.getType(rule.entity);
      if (!isObjectType(type)) throw new ConfigError(this.file, `rowRules.${rule.id}.entity`, `the supergraph has no object type ${rule.entity}`);
      if (rule.attribute && !type.getFields()[rule.attribute]) {
        throw new ConfigError(this.file, `rowRules.${rule.id}.attribute`, `${rule.entity} has no field ${rule.attribute}`);
      }
    }
  }

  /** What the rules leave visible to a caller with these claims and this purpose; undefined = everything. */
  scopeFor(claims: Record<string, unknown>, purpose: string): Record<string, RowScope> | undefined {
    let rows: Record<string, { match: Record<string, string | null>; consent: boolean }> | undefined;
    const scope = (entity: string) => ((rows ??= {})[entity] ??= { match: {}, consent: false });
    for (const rule of this.rules) {
      if (rule.claim !== null && rule.attribute !== null) {
        const value = claims[rule.claim];
        if (value === undefined) continue;
        const match = scope(rule.entity).match;
        const wanted = typeof value === 'string' && value !== '' ? value : null;
        // Two rules on one attribute: both must hold, so different values match nothing.
        match[rule.attribute] = rule.attribute in match && match[rule.attribute] !== wanted ? null : wanted;
      } else if (rule.consent !== null && rule.purposes.includes(purpose)) {
        scope(rule.entity).consent = true;
      }
    }
    return rows;
  }
}
