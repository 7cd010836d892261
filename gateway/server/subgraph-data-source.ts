import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { IDENTITY_HEADER } from '../../subgraphs/kit/forwarded-identity.js';
import type { GatewayContext } from './gateway-context.js';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';

/**
 * How the gateway talks to one subgraph. A subgraph that is down or answers garbage becomes a
 * GraphQL error naming that subgraph (code SUBGRAPH_UNAVAILABLE); the rest of the response is
 * still served, so one failing domain never takes the whole graph down.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource {
  constructor(readonly subgraphName: string, url: string) {
    super({ url });
  }

  /** Every fetch carries the caller's identity, signed by the gateway; subgraphs refuse anything else. */
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Record<string, any>>): void {
    const identityHeader = (context as Partial<GatewayContext>).identityHeader;
    if (identityHeader) request.http?.headers.set(IDENTITY_HEADER, identityHeader);
  }

  override async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new GraphQLError(`Subgraph "${this.subgraphName}" is unavailable: ${reason}`, {
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: this.subgraphName },
      });
    }
  }
}
