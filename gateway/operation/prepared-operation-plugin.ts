import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { OperationCache, PreparedOperation } from './operation-cache.js';

export interface OperationContext {
  operation?: PreparedOperation;
}

/**
 * A check on a prepared, validated operation before anything executes (demand control). It throws
 * an OperationError (a coded 4xx) to refuse the operation.
 */
export interface OperationCheck {
  name: string;
  check(operation: PreparedOperation, rc: GraphQLRequestContext<OperationContext>): void;
}

/**
 * Prepares the operation Apollo resolved (once per query hash and operation name, from the cache),
 * runs the checks in order, and puts it on the context, where authorization, limits, cost and the
 * catalog find it. An operation name the document does not define is a coded 400 here.
 */
export function preparedOperationPlugin<C extends OperationContext>(
  /** The operation cache and checks of the supergraph this request is served by. */
  select: (context: C) => { operations: OperationCache; checks: readonly OperationCheck[] },
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const { operations, checks } = select(rc.contextValue);
          const operation = operations.get(rc.document, rc.queryHash, rc.request.operationName, rc.source?.length);
          for (const c of checks) c.check(operation, rc);
          rc.contextValue.operation = operation;
        },
      };
    },
  };
}
