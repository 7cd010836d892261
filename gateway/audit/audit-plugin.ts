import type { ApolloServerPlugin } from '@apollo/server';
import type { FieldClassification } from '../../subgraphs/mesh/data-products/classification.js';
import type { AuthorizationContext } from '../authorization/authorizing-gateway.js';
import type { Caller } from '../authorization/authorizer.js';
import type { AuditLog } from './audit-log.js';
import { readPlan, readValues, type ReadPlan } from './response-reads.js';

/** What a resolver can add to its request's audit event (e.g. the data subject of a report). */
export interface AuditContext extends AuthorizationContext {
  auditDetails?: Record<string, unknown>;
}

/** Sensitive = personal data, or CONFIDENTIAL or RESTRICTED: what the audit trail records reads of. */
export const isSensitive = (c: FieldClassification | undefined): boolean => c !== undefined && (c.pii || c.level === 'confidential' || c.level === 'restricted');

const PLAN = Symbol('audit read plan');

/**
 * Records one audit event for every response that returns a sensitive value (the supergraph's
 * `@classification`: PII, CONFIDENTIAL or RESTRICTED): when, who (the token's subject), the
 * declared purpose, the operation (name and hash), the sensitive coordinates whose values it
 * returned, how many objects carried them, and which were masked.
 *
 * It runs in willSendResponse, before the response is written, and the event is in the write-ahead
 * journal when it returns: a response that was sent always has its event. Identical requests that
 * in-flight deduplication serves from one execution (same token, purpose, operation and
 * variables, at the same moment) are one read and record one event.
 */
export function auditPlugin(args: {
  log: AuditLog;
  classifications: ReadonlyMap<string, FieldClassification>;
  /** The coordinates a caller sees masked (gateway/masking); none without masking. */
  masked?: (caller: Caller) => ReadonlySet<string>;
}): ApolloServerPlugin<AuditContext> {
  const sensitive = (coordinate: string) => isSensitive(args.classifications.get(coordinate));
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue, request }) {
          const operation = contextValue.operation;
          if (!operation) return;
          const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
          if (!result.data) return;
          const plan = operation.derive<ReadPlan>(PLAN, (shape) => readPlan(shape, sensitive));
          if (plan.empty) return;
          const read = readValues(plan, result.data);
          if (read.rows === 0) return;
          const caller = contextValue.caller;
          const masked = args.masked?.(caller);
          const maskedCoordinates = masked?.size ? read.coordinates.filter((c) => masked.has(c)) : [];
          const subject = caller.claims.sub;
          args.log.record({
            at: new Date().toISOString(),
            subject: typeof subject === 'string' ? subject : null,
            purpose: caller.purpose,
            operationName: request.operationName ?? operation.shape.operation.name?.value ?? null,
            operationHash: operation.queryHash,
            coordinates: read.coordinates,
            rowCount: read.rows,
            masked: maskedCoordinates.length > 0,
            maskedCoordinates,
            details: contextValue.auditDetails ?? null,
          });
        },
      };
    },
  };
}
