import type { Caller } from '../authorization/authorizer.js';

/** Per-request context, built by the HTTP layer after authentication. */
export interface GatewayContext {
  caller: Caller;
  /** Signed identity forwarded to every subgraph fetch of this request. */
  identityHeader: string;
  /** How many fields authorization removed (for logs and metrics). */
  unauthorizedCount: number;
  /** Reject mode refused the operation: answered with 403. */
  rejected?: boolean;
}
