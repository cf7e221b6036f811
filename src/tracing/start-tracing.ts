// Tracing is off unless asked for with the standard OpenTelemetry variables: an OTLP endpoint
// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or
// `OTEL_TRACES_EXPORTER=otlp`; `OTEL_SDK_DISABLED=true` wins. The exporter reads the rest of
// the OTEL_* settings itself (headers, timeout, protocol details); the service name is
// `OTEL_SERVICE_NAME`, default "ream".
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { tracingRequested } from './requested.ts';

export interface Tracing {
  /** Sends what is buffered and stops (call before the process exits). */
  shutdown(): Promise<void>;
}

/**
 * Registers an OpenTelemetry SDK for this process: spans of ream's work (spans.ts) go to
 * `exporter` (default: OTLP over HTTP, configured by the OTEL_* variables), batched unless
 * `immediate`. Answers undefined, registering nothing, when no exporter is given and the
 * environment does not ask for traces.
 */
export async function startTracing(options: { exporter?: SpanExporter; immediate?: boolean } = {}): Promise<Tracing | undefined> {
  let exporter = options.exporter;
  if (!exporter) {
    if (!tracingRequested()) return undefined;
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter();
  }
  process.env.OTEL_SERVICE_NAME ??= 'ream';
  const processor = options.immediate ? new SimpleSpanProcessor({ exporter }) : new BatchSpanProcessor({ exporter });
  const provider = new TracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
