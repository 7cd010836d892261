import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
  GatewayLoadResult,
  GatewaySchemaLoadOrUpdateCallback,
} from '@apollo/server-gateway-interface';
import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { errorType } from '../../subgraphs/mesh/request-spans.js';
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

const tracer = trace.getTracer('data-mesh/gateway');

/**
 * ApolloGateway with our authorization in front of its query planner. Filtering happens on the
 * operation *before* planning, so a subgraph is never asked for a field the caller may not see.
 */
export class AuthorizingGateway implements GatewayInterface {
  /** Authorize, plan and execute: set once loaded (contracts' endpoints execute through it too). */
  executor: GatewayExecutor | null = null;

  constructor(
    private readonly inner: ApolloGateway,
    /** The authorizer of the supergraph this request is served by (it changes on reload). */
    private readonly authorizerOf: (context: AuthorizationContext) => Authorizer,
  ) {}

  async load(options: Parameters<GatewayInterface['load']>[0]): Promise<GatewayLoadResult> {
    const loaded = await this.inner.load(options);
    this.executor = (rc) => this.execute(rc, loaded.executor);
    return { ...loaded, executor: this.executor };
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback) {
    return this.inner.onSchemaLoadOrUpdate(callback);
  }

  stop() {
    return this.inner.stop();
  }

  /**
   * Tracing on: the operation's span (`query CustomerOverview`) around authorize + plan + execute,
   * with `graphql.authorize` as its child; ApolloGateway's own spans (gateway.plan on a plan cache
   * miss, gateway.execute, gateway.fetch per subgraph fetch) nest under it.
   */
  private execute(rc: GatewayGraphQLRequestContext, executor: GatewayExecutor) {
    if (!trace.getActiveSpan()?.isRecording()) return this.authorizeAndExecute(rc, executor);
    const type = rc.operation?.operation ?? 'query';
    const name = rc.operationName ?? rc.request.operationName;
    const attributes: Attributes = { 'graphql.operation.type': type };
    if (name) attributes['graphql.operation.name'] = name;
    return tracer.startActiveSpan(name ? `${type} ${name}` : type, { attributes }, async (span) => {
      try {
        return await this.authorizeAndExecute(rc, executor);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(error));
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** The caller's decision, in a `graphql.authorize` span when tracing records. */
  private decide(authorizer: Authorizer, operation: PreparedOperation, rc: GatewayGraphQLRequestContext, caller: Caller): Decision | null {
    const request = { operationName: rc.request.operationName, variables: rc.request.variables };
    if (!trace.getActiveSpan()?.isRecording()) return authorizer.decide(operation, request, caller);
    const span = tracer.startSpan('graphql.authorize', { attributes: { 'mesh.authorization.mode': authorizer.mode } });
    try {
      const decision = authorizer.decide(operation, request, caller);
      // How many fields or types the caller may not read (each one error); never which, nor who asked.
      span.setAttribute('mesh.authorization.unauthorized', decision?.errors.length ?? 0);
      return decision;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', errorType(error));
      throw error;
    } finally {
      span.end();
    }
  }

  private async authorizeAndExecute(rc: GatewayGraphQLRequestContext, executor: GatewayExecutor) {
    const context = rc.context as unknown as AuthorizationContext;
    // No prepared operation: Apollo could not resolve one, and the gateway's executor says why.
    if (!context.operation) return executor(rc);
    const authorizer = this.authorizerOf(context);
    const decision = this.decide(authorizer, context.operation, rc, context.caller);
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
