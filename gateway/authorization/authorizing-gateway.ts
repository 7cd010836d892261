import type { ApolloGateway } from '@apollo/gateway';
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
  GatewayLoadResult,
  GatewaySchemaLoadOrUpdateCallback,
} from '@apollo/server-gateway-interface';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from '../server/gateway-context.js';
import type { Authorizer } from './authorizer.js';
import { applyNulls } from './response-nulls.js';

/**
 * ApolloGateway with our authorization in front of its query planner. Filtering happens on the
 * operation *before* planning, so a subgraph is never asked for a field the caller may not see.
 */
export class AuthorizingGateway implements GatewayInterface {
  constructor(
    private readonly inner: ApolloGateway,
    private readonly authorizer: Authorizer,
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
    const context = rc.context as unknown as GatewayContext;
    const decision = this.authorizer.decide(
      { document: rc.document, queryHash: rc.queryHash, operationName: rc.request.operationName, variables: rc.request.variables },
      context.caller,
    );
    if (!decision) return executor(rc);
    const { outcome, errors } = decision;
    context.unauthorizedCount = errors.length;

    switch (this.authorizer.mode) {
      case 'reject':
        // Nothing runs: any unauthorized field rejects the whole operation (HTTP 403, set by the server).
        context.rejected = true;
        return { errors };
      case 'dry_run': {
        // Full data, plus the errors the rules would raise: for rolling out new rules safely.
        const result = await executor(rc);
        return { ...result, errors: [...errors, ...(result.errors ?? [])] };
      }
      default: {
        if (outcome.empty) return { data: applyNulls({}, outcome), errors };
        const operation = outcome.document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
        const result = await executor({ ...rc, document: outcome.document, queryHash: decision.queryHash, operation });
        return { ...result, data: applyNulls(result.data, outcome), errors: [...errors, ...(result.errors ?? [])] };
      }
    }
  }
}
