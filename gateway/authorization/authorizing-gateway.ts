import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
  GatewayLoadResult,
  GatewaySchemaLoadOrUpdateCallback,
} from '@apollo/server-gateway-interface';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { PreparedOperation } from '../operation/operation-cache.js';
import type { Authorizer, Caller, Decision } from './authorizer.js';
import { applyNulls } from './response-nulls.js';

/** What authorization reads from, and leaves on, the request's context. */
export interface AuthorizationContext {
  caller: Caller;
  /** The operation, prepared by the gateway before execution (see gateway/operation). */
  operation?: PreparedOperation;
  /** This request's decision, for the layers after it (the catalog's lineage, logs). */
  authorization?: Decision | null;
  /** Coordinates the executed operation selects, when authorization removed some (the catalog's lineage). */
  lineage?: ReadonlySet<string>;
  /** Reject mode refused the operation: answered with 403. */
  rejected?: boolean;
}

/**
 * ApolloGateway with our authorization in front of its query planner. Filtering happens on the
 * operation *before* planning, so a subgraph is never asked for a field the caller may not see.
 */
export class AuthorizingGateway implements GatewayInterface {
  constructor(
    private readonly inner: ApolloGateway,
    /** The authorizer of the supergraph this request is served by (it changes on reload). */
    private readonly authorizerOf: (context: AuthorizationContext) => Authorizer,
  ) {}

  async load(options: Parameters<GatewayInterface['load']>[0]): Promise<GatewayLoadResult> {
    const loaded = await this.inner.load(options);
    return { ...loaded, executor: (rc) => this.execute(rc, loaded.executor) };
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback) {
    return this.inner.onSchemaLoadOrUpdate(callback);
  }

  stop() {
    return this.inner.stop();
  }

  private async execute(rc: GatewayGraphQLRequestContext, executor: GatewayExecutor) {
    const context = rc.context as unknown as AuthorizationContext;
    // No prepared operation: Apollo could not resolve one, and the gateway's executor says why.
    if (!context.operation) return executor(rc);
    const authorizer = this.authorizerOf(context);
    const decision = authorizer.decide(context.operation, { operationName: rc.request.operationName, variables: rc.request.variables }, context.caller);
    context.authorization = decision;
    if (!decision) return executor(rc);
    const { outcome, errors } = decision;

    switch (authorizer.mode) {
      case 'reject':
        // Nothing runs: any unauthorized field rejects the whole operation (HTTP 403, see rejectedStatusPlugin).
        context.rejected = true;
        return { errors };
      case 'dry_run': {
        // Full data, plus the errors the rules would raise: for rolling out new rules safely.
        const result = await executor(rc);
        return { ...result, errors: [...errors, ...(result.errors ?? [])] };
      }
      default: {
        context.lineage = outcome.coordinates;
        if (outcome.empty) return { data: applyNulls({}, outcome.plan), errors };
        const operation = outcome.document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
        const result = await executor({ ...rc, document: outcome.document, queryHash: decision.queryHash, operation });
        return { ...result, data: applyNulls(result.data, outcome.plan), errors: [...errors, ...(result.errors ?? [])] };
      }
    }
  }
}

/** Reject mode's answer is HTTP 403 (forbidden), not 200 with errors. */
export function rejectedStatusPlugin(): ApolloServerPlugin<AuthorizationContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          if (contextValue.rejected) response.http.status = 403;
        },
      };
    },
  };
}
