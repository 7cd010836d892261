import type { ApolloServerPlugin } from '@apollo/server';
import type { OperationCache, PreparedOperation } from './operation-cache.js';

export interface OperationContext {
  operation?: PreparedOperation;
}

/**
 * Prepares the operation Apollo resolved (once per query hash and operation name, from the cache)
 * and puts it on the context, where authorization, limits, cost and the catalog find it. An
 * operation name the document does not define is a coded 400 here, not a failure later.
 */
export function preparedOperationPlugin(operations: () => OperationCache): ApolloServerPlugin<OperationContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          rc.contextValue.operation = operations().get(rc.document, rc.queryHash, rc.request.operationName);
        },
      };
    },
  };
}
