import { createHash } from 'node:crypto';
import { GraphQLError, print } from 'graphql';
import type { AuthorizationMode } from '../config/gateway-config.js';
import type { PreparedOperation } from '../operation/operation-cache.js';
import { OperationAnalysis, type FilterOutcome } from './operation-filter.js';
import type { PolicyBook } from './policy-book.js';
import { purposeVerdicts, refusalErrors } from './purpose-limitation.js';
import { isSatisfied, type Grants, type Requirement } from './requirement.js';
import type { SecurityIndex } from './security-index.js';

/** What the authorizer needs to know about the caller. */
export interface Caller {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
  claims: Record<string, unknown>;
  purpose: string;
}

export interface Decision {
  outcome: FilterOutcome;
  errors: GraphQLError[];
  /** Hash of the filtered document, so the query planner caches its plan separately. */
  queryHash: string;
}

/**
 * Decisions beyond the schema's directives, per caller and field (gateway/masking: a field the
 * masking rules decide `mask` counts as authorized, its value masked by the subgraph; one decided
 * `deny` does not).
 */
export interface FieldGovernance {
  /** The index the operation analysis reads: governed fields get requirements of their own. */
  readonly index: SecurityIndex;
  allows(requirement: Requirement, grants: Grants, caller: Caller): boolean;
}

const ANALYSIS = Symbol('authorization analysis');

/**
 * Field-level authorization with Apollo Router's semantics. Built once per supergraph; per request
 * it costs a cache lookup, a few set lookups and the policies the operation actually touches.
 */
export class Authorizer {
  private readonly hashes = new WeakMap<FilterOutcome, string>();

  constructor(
    readonly index: SecurityIndex,
    readonly mode: AuthorizationMode,
    readonly policies: PolicyBook,
    /** Masking rules (optional): consulted before the directives for the fields they govern. */
    private readonly governance?: FieldGovernance,
  ) {
    policies.assertDefines(index.policyNames);
    policies.rowRules.assertEntities(index.schema);
  }

  /** The caller's decision for a prepared operation; null when it may read everything it asks for. */
  decide(operation: PreparedOperation, request: { operationName: string | null | undefined; variables?: Record<string, unknown> }, caller: Caller): Decision | null {
    const analysis = operation.derive(ANALYSIS, (shape) => new OperationAnalysis(this.governance?.index ?? this.index, shape));
    if (analysis.requirements.length === 0) return null;

    const decided = new Map<string, boolean>();
    const grants: Grants = {
      authenticated: caller.authenticated,
      scopes: caller.scopes,
      policy: (name) => {
        let allowed = decided.get(name);
        if (allowed === undefined) {
          allowed = this.policies.evaluate(name, {
            claims: caller.claims,
            scopes: [...caller.scopes],
            request: { purpose: caller.purpose, operationName: request.operationName ?? '' },
          });
          decided.set(name, allowed);
        }
        return allowed;
      },
    };
    const governance = this.governance;
    const allowed = analysis.requirements.map(governance ? (r) => governance.allows(r, grants, caller) : (r) => isSatisfied(r, grants));
    // Purpose limitation (@purposes) joins authorization: refused the same way, with its own code.
    const purposes = purposeVerdicts(analysis.requirements, caller.purpose);
    const outcome = analysis.decide(purposes ? allowed.map((a, i) => a && purposes[i]!) : allowed, request.variables);
    if (!outcome.changed) return null;
    let queryHash = this.hashes.get(outcome);
    if (!queryHash) {
      queryHash = createHash('sha256').update(print(outcome.document)).digest('hex');
      this.hashes.set(outcome, queryHash);
    }
    const errors = refusalErrors(outcome, purposes ? analysis.decide(allowed, request.variables) : null, caller.purpose);
    return { outcome, errors, queryHash };
  }
}
