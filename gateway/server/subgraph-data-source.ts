import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { Agent, request } from 'undici';
import { IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import type { GatewayContext } from './gateway-context.js';

/**
 * How the gateway talks to one subgraph.
 *
 * - Pooled keep-alive HTTP (undici), one pool shared by all subgraphs of a gateway.
 * - Every fetch carries the caller's identity, signed by the gateway; subgraphs refuse anything else.
 * - Identical fetches in flight at the same time, for the same signed identity, share one HTTP
 *   request: the key includes the identity, so callers with different rights never share. Each
 *   caller parses its own copy of the answer (the gateway mutates what it merges). Mutations are
 *   never shared.
 * - A subgraph that is down or answers garbage becomes a GraphQL error naming it
 *   (SUBGRAPH_UNAVAILABLE); the rest of the response is still served.
 */
export class SubgraphDataSource implements GraphQLDataSource<Record<string, any>> {
  private readonly inflight = new Map<string, Promise<SubgraphAnswer>>();
  constructor(
    readonly subgraphName: string,
    private readonly url: string,
    private readonly agent: Agent,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<Record<string, any>>): Promise<GatewayGraphQLResponse> {
    const { query, variables, operationName } = options.request;
    const body = JSON.stringify({ query, variables, operationName });
    const identity = (options.context as Partial<GatewayContext>).identityHeader ?? '';
    let answer: SubgraphAnswer;
    if (query && /^\s*mutation\b/.test(query)) {
      answer = await this.send(body, identity);
    } else {
      const key = `${identity}\n${body}`;
      let pending = this.inflight.get(key);
      if (!pending) {
        pending = this.send(body, identity);
        this.inflight.set(key, pending);
        pending.finally(() => this.inflight.delete(key)).catch(() => {});
      }
      answer = await pending;
    }
    return this.interpret(answer);
  }

  private async send(body: string, identity: string): Promise<SubgraphAnswer> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [IDENTITY_HEADER]: identity },
        body,
        dispatcher: this.agent,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      throw this.unavailable(error instanceof Error ? (error as Error & { code?: string }).code ?? error.message : String(error));
    }
  }

  private interpret({ status, text }: SubgraphAnswer): GatewayGraphQLResponse {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.unavailable(`HTTP ${status}, not a JSON response`);
    }
    if (typeof parsed !== 'object' || parsed === null || (!('data' in parsed) && !('errors' in parsed))) {
      throw this.unavailable(`HTTP ${status}, not a GraphQL response`);
    }
    // A GraphQL error body (even with a 4xx/5xx status) is passed on: the gateway attributes it to this subgraph.
    return parsed as GatewayGraphQLResponse;
  }

  private unavailable(reason: string): GraphQLError {
    return new GraphQLError(`Subgraph "${this.subgraphName}" is unavailable: ${reason}`, {
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: this.subgraphName },
    });
  }
}

interface SubgraphAnswer {
  status: number;
  text: string;
}

/** One keep-alive pool per gateway, for all its subgraphs. */
export function createSubgraphAgent(): Agent {
  return new Agent({ connections: 128, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
}
