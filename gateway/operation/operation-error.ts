import { GraphQLError } from 'graphql';

/**
 * A client's operation that cannot be run as sent: unknown or ambiguous operation name, a limit
 * exceeded, too expensive. Always a 4xx with a code (Apollo Server reads `extensions.http`), never
 * a 500: a client mistake is not a server failure.
 */
export class OperationError extends GraphQLError {
  constructor(message: string, code: string, status = 400, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions, http: { status } } });
  }
}
