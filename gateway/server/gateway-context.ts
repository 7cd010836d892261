import type { RequestRecord } from '../telemetry/request-telemetry.js';
import type { ServedSupergraph } from './served-supergraph.js';
import type { Contract } from '../contracts/contracts.js';
import type { RequestIdentity } from '../authentication/request-identity.js';
import type { AuthorizationContext } from '../authorization/authorizing-gateway.js';
import type { OperationContext } from '../operation/prepared-operation-plugin.js';
import type { Cancellation } from './cancellation.js';

/**
 * Per-request context: the caller's identity (authentication), then what each layer adds as the
 * request goes through (the prepared operation, authorization's decision, the lineage).
 */
export interface GatewayContext extends RequestIdentity, AuthorizationContext, OperationContext {
  /**
   * Aborted when nobody waits for the answer any more: the request's deadline
   * (`traffic_shaping.router.timeout`) passed or its client disconnected (for an execution shared
   * by identical requests, once all of them have). Every subgraph fetch of the request is tied to it.
   */
  signal?: Cancellation;
  /** The supergraph (and all built for it) this request is served by: fixed for the request, whatever reloads meanwhile. */
  served?: ServedSupergraph;
  /** The contract whose path the request came in on (its schema validated it); absent on /graphql. */
  contract?: Contract;
  /** What this request did, for its metrics and access-log line. */
  record?: RequestRecord;
}
