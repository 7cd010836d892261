import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GatewaySettings } from '../config/gateway-settings.js';
import type { OperationCheck } from '../operation/prepared-operation-plugin.js';
import { allSelections } from '../operation/operation-shape.js';
import { OperationError } from '../operation/operation-error.js';
import type { RequestIdentity } from '../authentication/request-identity.js';

const SELECTS_SCHEMA = Symbol('selects __schema or __type');

/**
 * `supergraph.introspection`: true (anyone), false (nobody) or 'authenticated' (a caller with a
 * valid token). An operation that selects `__schema` or `__type` anywhere (through fragments too;
 * validation allows them only on the query root) is refused with Apollo Router's code
 * INTROSPECTION_DISABLED: 400 when introspection is off, 401 for an anonymous caller when it needs
 * a token. `__typename` is always allowed. Runs on the prepared operation after validation, so the
 * refusal carries nothing of the schema; the scan is one pass over the operation, cached with it.
 */
export function introspectionCheck(setting: GatewaySettings['supergraph']['introspection']): OperationCheck {
  return {
    name: 'introspection',
    check(operation, rc) {
      if (setting === true) return;
      const selectsSchema = operation.derive(SELECTS_SCHEMA, (shape) => {
        for (const [, selection] of allSelections(shape)) {
          if (selection.kind === 'field' && (selection.node.name.value === '__schema' || selection.node.name.value === '__type')) return true;
        }
        return false;
      });
      if (!selectsSchema) return;
      if (setting === false) throw new OperationError('introspection has been disabled', 'INTROSPECTION_DISABLED');
      if ((rc.contextValue as Partial<RequestIdentity>).caller?.authenticated) return;
      // Apollo Server reads `http.headers` as its HeaderMap (graphql-yoga's typings say a plain record).
      const http = { status: 401, headers: new HeaderMap([['www-authenticate', 'Bearer']]) } as unknown as { status: number };
      throw new GraphQLError('introspection needs an authenticated caller (a valid bearer token)', { extensions: { code: 'INTROSPECTION_DISABLED', http } });
    },
  };
}

const SUGGESTION = / ?Did you mean(.+?)\?$/;

/**
 * `supergraph.suggestions: false`: no "Did you mean …?" in any error. Apollo Server's
 * `hideSchemaDetailsFromClientErrors` removes them from validation errors; this removes them from
 * the others too (a misspelt enum value or input field in the variables is a BAD_USER_INPUT whose
 * message would name the right one).
 */
export function hideSuggestionsPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          for (const error of errors ?? []) {
            if (SUGGESTION.test(error.message)) (error as { message: string }).message = error.message.replace(SUGGESTION, '');
          }
        },
      };
    },
  };
}
