import type { RequestIdentity } from '../authentication/request-identity.js';
import type { AuthorizationContext } from '../authorization/authorizing-gateway.js';
import type { OperationContext } from '../operation/prepared-operation-plugin.js';

/**
 * Per-request context: the caller's identity (authentication), then what each layer adds as the
 * request goes through (the prepared operation, authorization's decision, the lineage).
 */
export interface GatewayContext extends RequestIdentity, AuthorizationContext, OperationContext {}
