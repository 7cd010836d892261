import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createLogger, type Logger } from './logger.js';

/**
 * OpenTelemetry tracing for one process (the gateway, or one subgraph): OTLP over HTTP (JSON),
 * configured by the standard variables, and **off unless an endpoint is configured**.
 *
 * Off, nothing is registered: the code paths call the OpenTelemetry API, whose no-op tracer hands
 * out non-recording spans, and they build no attributes for those (they check `isRecording()`).
 * The SDK and the exporter are not even loaded (imported only when tracing starts).
 *
 * On: one BatchSpanProcessor and OTLP/HTTP exporter, the W3C `traceparent` propagator (no
 * baggage: nothing but the trace context crosses a process boundary), async context through
 * AsyncLocalStorage, and the sampler of `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`
 * (default: parent-based, always on). The SDK itself reads `OTEL_BSP_*`, `OTEL_SPAN_*` limits and
 * `OTEL_EXPORTER_OTLP_HEADERS` / `_TIMEOUT` / `_COMPRESSION` (and their `_TRACES_` forms).
 *
 * The program names itself (`serviceName`); `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
 * win over that name.
 */
export interface TracingOptions {
  /** service.name unless OTEL_SERVICE_NAME says otherwise, e.g. 'data-mesh-gateway', 'sales-subgraph'. */
  serviceName: string;
  /**
   * Where to POST spans (the full URL, e.g. http://collector:4318/v1/traces). Default:
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.
   */
  endpoint?: string;
  /** The variables read (default: process.env). The SDK reads its own tuning variables from process.env. */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

export interface Tracing {
  serviceName: string;
  /** The URL spans are POSTed to. */
  endpoint: string;
  /** Exports every span ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left (waiting at most `timeoutMs`), then unregisters everything (tracing may be started again). */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** The one provider this process registered, if any. */
let running: Tracing | null = null;

/** The OTLP traces URL the environment configures, or null (tracing off). */
export function tracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | null {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return null;
  return `${base}${base.endsWith('/') ? '' : '/'}v1/traces`;
}

/** Why tracing stays off for this environment, or null when it may start. */
function offBecause(env: NodeJS.ProcessEnv, endpoint: string | null): string | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return 'OTEL_SDK_DISABLED=true';
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim().toLowerCase());
  if (exporters.includes('none')) return 'OTEL_TRACES_EXPORTER=none';
  if (!endpoint) return 'no OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)';
  return null;
}

/**
 * Starts tracing for this process when the environment (or `options.endpoint`) configures an OTLP
 * endpoint and OTEL_SDK_DISABLED is not `true`; returns null, registering nothing, otherwise.
 * Once per process: a second call returns the running one.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing | null> {
  if (running) return running;
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger('tracing');
  const endpoint = options.endpoint ?? tracesEndpoint(env);
  const off = offBecause(env, endpoint);
  if (off) {
    log.debug('tracing off', { reason: off });
    return null;
  }
  warnAboutUnsupported(env, log);

  // Loaded only now: a process that does not trace never loads the SDK.
  const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources, { W3CTraceContextPropagator }, { AsyncLocalStorageContextManager }, { ATTR_SERVICE_NAME }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/semantic-conventions'),
    ]);
  if (running) return running;

  // Later merges win: the SDK's own attributes, our name, then OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const serviceName = String(resource.attributes[ATTR_SERVICE_NAME]);
  const provider: BasicTracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint! }))],
  });

  // The SDK's own problems (an unreachable collector, a full queue) reach our logs as warnings.
  diag.setLogger(
    {
      error: (message, ...args) => log.warn(`opentelemetry: ${message}`, args.length ? { details: args.map(String) } : undefined),
      warn: (message, ...args) => log.warn(`opentelemetry: ${message}`, args.length ? { details: args.map(String) } : undefined),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);

  const started: Tracing = {
    serviceName,
    endpoint: endpoint!,
    forceFlush: () => provider.forceFlush(),
    async shutdown(timeoutMs = 5_000) {
      if (running !== started) return;
      running = null;
      let timer: NodeJS.Timeout | undefined;
      try {
        // An unreachable collector must not hold a stopping process for the exporter's own timeouts.
        await Promise.race([provider.shutdown(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref()))]);
      } finally {
        clearTimeout(timer);
        trace.disable();
        propagation.disable();
        context.disable();
        diag.disable();
      }
    },
  };
  running = started;
  log.info('tracing on', { serviceName, endpoint });
  return started;
}

/** The running tracing of this process, if any (tests, shutdown paths). */
export function runningTracing(): Tracing | null {
  return running;
}

function warnAboutUnsupported(env: NodeJS.ProcessEnv, log: Logger): void {
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol && protocol !== 'http/json') {
    log.warn(`tracing sends OTLP over HTTP as JSON (http/json), not ${protocol}: use the collector's OTLP/HTTP port (4318)`);
  }
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim().toLowerCase());
  const unsupported = exporters.filter((e) => e !== 'otlp');
  if (unsupported.length) log.warn(`OTEL_TRACES_EXPORTER: only otlp is supported; ignoring ${unsupported.join(', ')}`);
}
