import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLField } from 'graphql';
import { IdentitySigner, IdentityVerifier, type ForwardedIdentity } from '../../subgraphs/mesh/identity.js';
import type { MaskSpec } from '../../subgraphs/mesh/data-products/masks.js';
import type { AuthorizationContext } from '../authorization/authorizing-gateway.js';
import type { Caller, FieldGovernance } from '../authorization/authorizer.js';
import { isSatisfied, NO_REQUIREMENT, type Grants, type Requirement } from '../authorization/requirement.js';
import type { SecurityIndex } from '../authorization/security-index.js';
import type { RequestIdentity } from '../authentication/request-identity.js';
import { allSelections } from '../operation/operation-shape.js';
import type { MaskingPolicy } from './masking-policy.js';

/**
 * A governed field's requirement: its own object (so the operation analysis gives it its own
 * slot), deciding by the masking rules first and the schema's directives (`base`) second.
 */
interface GovernedRequirement extends Requirement {
  readonly governed: string;
  readonly base: Requirement;
}

type MaskingContext = AuthorizationContext & Partial<RequestIdentity>;

const SELECTED = Symbol('coordinates selected (masking)');

/**
 * Masking, as the gateway enforces it (the rules in masking-policy.ts, the masks in the
 * descriptors, applied by the subgraphs):
 *
 * 1. authorization: a field the rules decide `mask` counts as authorized when its data product
 *    declares a mask (else it is denied), one decided `deny` as unauthorized — in filter, reject and
 *    dry_run modes alike;
 * 2. the signed identity forwarded to subgraphs lists the coordinates this caller sees masked, so
 *    the subgraph that owns one masks it before it leaves (subgraphs/kit/masking.ts);
 * 3. every response that contains masked fields lists them in `extensions.masked`.
 */
export class FieldMasking implements FieldGovernance {
  readonly index: SecurityIndex;
  private readonly signer: IdentitySigner;
  private readonly verifier: IdentityVerifier;
  private readonly withMasks = new WeakMap<ForwardedIdentity, ForwardedIdentity>();
  private readonly effectiveCache = new WeakMap<ReadonlySet<string>, { masks: ReadonlyMap<string, MaskSpec>; effective: ReadonlySet<string> }>();
  private readonly listed = new WeakMap<ReadonlySet<string>, WeakMap<ReadonlySet<string>, string[]>>();

  constructor(
    readonly policy: MaskingPolicy,
    security: SecurityIndex,
    /** The masks the data products declare, by coordinate (the catalog's latest view). */
    private readonly masks: () => ReadonlyMap<string, MaskSpec>,
    signingKey: string,
  ) {
    this.signer = new IdentitySigner(signingKey);
    this.verifier = new IdentityVerifier(signingKey);
    const governed = new Map<string, GovernedRequirement>();
    for (const coordinate of policy.governed) {
      const base = security.fields.get(coordinate) ?? NO_REQUIREMENT;
      governed.set(coordinate, {
        authenticated: false,
        scopes: null,
        policies: [[`masking:${coordinate}`]],
        // Purpose limitation (@purposes) still applies to a governed field: masking decides the grants only.
        ...(base.purposes ? { purposes: base.purposes } : {}),
        governed: coordinate,
        base,
      });
    }
    // The analysis reads this view: governed fields get their own requirement, the rest is the supergraph's index.
    this.index = governed.size
      ? (Object.create(security, {
          fieldRequirement: {
            value: (typeName: string, field: GraphQLField<unknown, unknown>) => governed.get(`${typeName}.${field.name}`) ?? security.fieldRequirement(typeName, field),
          },
        }) as SecurityIndex)
      : security;
  }

  /** Whether the caller may read what `r` guards: its value, or (decided `mask`) its masked value. */
  allows(r: Requirement, grants: Grants, caller: Caller): boolean {
    const coordinate = (r as Partial<GovernedRequirement>).governed;
    if (coordinate === undefined) return isSatisfied(r, grants);
    const decision = this.policy.forCaller(caller).decisions.get(coordinate);
    if (decision === undefined) return isSatisfied((r as GovernedRequirement).base, grants);
    return decision === 'mask' && this.masks().has(coordinate);
  }

  /** The coordinates this caller gets masked values for: decided `mask`, with a declared mask. */
  effective(caller: Pick<Caller, 'scopes' | 'claims'>): ReadonlySet<string> {
    const { masked } = this.policy.forCaller(caller);
    if (masked.size === 0) return masked;
    const masks = this.masks();
    let hit = this.effectiveCache.get(masked);
    if (!hit || hit.masks !== masks) {
      hit = { masks, effective: new Set([...masked].filter((c) => masks.has(c))) };
      this.effectiveCache.set(masked, hit);
    }
    return hit.effective;
  }

  /**
   * The signed identity subgraphs get, with the caller's masked coordinates added: derived once
   * per forwarded identity (the verifier and the signer cache by header and by identity).
   */
  async identityHeader(header: string, masked: ReadonlySet<string>): Promise<string> {
    const identity = await this.verifier.verify(header);
    let withMasks = this.withMasks.get(identity);
    if (!withMasks || withMasks.masked !== masked) {
      withMasks = { ...identity, masked };
      this.withMasks.set(identity, withMasks);
    }
    return this.signer.header(withMasks);
  }

  readonly plugin: ApolloServerPlugin<MaskingContext> = {
    requestDidStart: async ({ contextValue }) => {
      const masked = this.policy.forCaller(contextValue.caller).masked;
      // Every coordinate decided `mask` goes to the subgraphs (even one whose mask the catalog does
      // not know yet: authorization denies those, and a subgraph refuses a masked field it cannot mask).
      if (masked.size && contextValue.identityHeader) contextValue.identityHeader = await this.identityHeader(contextValue.identityHeader, masked);
      return {
        willSendResponse: async ({ response, contextValue: context }) => {
          if (response.body.kind !== 'single' || !context.operation || !response.body.singleResult.data) return;
          const effective = this.effective(context.caller);
          if (effective.size === 0) return;
          const used = context.lineage ?? context.operation.derive(SELECTED, (shape) => {
            const all = new Set<string>();
            for (const [, s] of allSelections(shape)) if (s.kind === 'field' && s.coordinate) all.add(s.coordinate);
            return all as ReadonlySet<string>;
          });
          const list = this.maskedIn(used, effective);
          if (list.length) response.body.singleResult.extensions = { ...response.body.singleResult.extensions, masked: list };
        },
      };
    },
  };

  /** The masked coordinates an operation reads, sorted; cached per (operation's coordinates, caller's masks). */
  maskedIn(used: ReadonlySet<string>, effective: ReadonlySet<string>): string[] {
    let byEffective = this.listed.get(used);
    if (!byEffective) this.listed.set(used, (byEffective = new WeakMap()));
    let list = byEffective.get(effective);
    if (!list) {
      list = [...used].filter((c) => effective.has(c)).sort();
      byEffective.set(effective, list);
    }
    return list;
  }
}
