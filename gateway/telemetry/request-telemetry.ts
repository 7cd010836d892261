import type { ApolloServerPlugin } from '@apollo/server';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import type { GatewaySettings } from '../config/gateway-settings.js';
import type { GatewayContext } from '../server/gateway-context.js';
import type { GatewayMetrics } from './metrics.js';

/** What one request did, filled in as it goes: for its metrics and its access-log line. */
export interface RequestRecord {
  started: number;
  operationName?: string | null;
  operationHash?: string;
  subject?: string | null;
  /** Fields and types authorization removed or refused. */
  denied: number;
  estimatedCost?: number;
  /** The first error's code, for a refused or failed request. */
  code?: string;
  /** Answered by an identical execution already in flight. */
  shared?: boolean;
  traceId?: string;
}

export const newRecord = (): RequestRecord => ({ started: performance.now(), denied: 0 });

/**
 * Fills the request's record from what the layers left on the context (the prepared operation,
 * authorization's decision, demand control's estimate), and counts authorization denials and cost.
 */
export function requestTelemetryPlugin(metrics: GatewayMetrics, estimateOf: (context: GatewayContext) => { estimated: number; refused: boolean } | undefined): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          const record = contextValue.record;
          if (record && !record.code) record.code = String(errors[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
        },
        async willSendResponse(rc) {
          const { contextValue: context } = rc;
          const record = context.record;
          if (!record) return;
          record.operationName = rc.operationName ?? rc.request.operationName ?? null;
          record.operationHash = rc.queryHash;
          const decision = context.authorization;
          if (decision) {
            record.denied = decision.outcome.denied.length;
            const reason = context.rejected ? 'rejected' : 'unauthorized';
            for (const coordinate of decision.outcome.denied) metrics.authorizationDenials.inc({ coordinate, reason });
          }
          const cost = estimateOf(context);
          if (cost) {
            record.estimatedCost = cost.estimated;
            metrics.estimatedCost.observe(Math.min(cost.estimated, 1e9));
            if (cost.refused) metrics.costRejections.inc();
          }
        },
      };
    },
  };
}

const LIMIT_CODES = /^(MAX_[A-Z_]+_LIMIT|GRAPHQL_PARSE_FAILED|PAYLOAD_TOO_LARGE)$/;

/**
 * When the response is done (sent or abandoned): the request's metrics and, sampled, one access-log
 * line — trace id, subject (never the token), operation name and hash, duration, status, fields
 * denied, estimated cost.
 */
export function finishRequest(res: ServerResponse, record: RequestRecord, metrics: GatewayMetrics, settings: GatewaySettings['telemetry']['access_log'], log: Logger): void {
  const done = () => {
    const seconds = (performance.now() - record.started) / 1000;
    const status = res.writableFinished ? res.statusCode : 499;
    const outcome = status >= 500 ? 'failed' : status >= 400 ? 'refused' : record.code ? 'errors' : 'ok';
    const operation = metrics.operationLabel(record.operationName);
    metrics.requests.inc({ operation_name: operation, outcome });
    metrics.requestDuration.observe({ operation_name: operation, outcome }, seconds);
    if (record.shared) metrics.sharedExecutions.inc();
    if (record.code && LIMIT_CODES.test(record.code)) metrics.limitRejections.inc({ code: record.code });
    if (!settings.enabled || (settings.sample_rate < 1 && Math.random() >= settings.sample_rate)) return;
    log.info('request', {
      traceId: record.traceId ?? null,
      subject: record.subject ?? null,
      operationName: record.operationName ?? null,
      operationHash: record.operationHash ?? null,
      durationMs: Math.round(seconds * 10_000) / 10,
      status,
      denied: record.denied,
      estimatedCost: record.estimatedCost ?? null,
      ...(record.code ? { code: record.code } : {}),
      ...(record.shared ? { shared: true } : {}),
    });
  };
  res.once('close', done);
}
