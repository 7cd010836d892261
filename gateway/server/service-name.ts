/**
 * The gateway's OpenTelemetry service.name unless OTEL_SERVICE_NAME says otherwise. Its own module:
 * the CLIs start tracing before they load the gateway (gateway-server.ts re-exports it).
 */
export const GATEWAY_SERVICE_NAME = 'data-mesh-gateway';
