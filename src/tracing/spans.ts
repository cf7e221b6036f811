// Spans of ream's own work, through the OpenTelemetry API only: without a registered SDK (the
// default) every call here is a no-op, and nothing of the SDK is loaded. With one (startTracing,
// or an application's own SDK), an HTTP request, the tasks it causes in any process, their
// stages and model calls form one trace: a task carries its parent's `traceparent` in its payload.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';

const TRACER = 'ream';

/** The W3C `traceparent` of the active span, to carry into a task; undefined when nothing is traced. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The payload field that carries a task's parent span (absent when nothing is traced). */
export function traceField(): { trace?: string } {
  const traceparent = activeTraceparent();
  return traceparent === undefined ? {} : { trace: traceparent };
}

/** The context a `traceparent` names (a task's parent in another process), or the root. */
export function contextOf(traceparent: unknown): Context {
  return typeof traceparent === 'string' ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/**
 * Runs `work` in a span named `name` (a child of `parent`, default the active context), ending
 * it when `work` settles; a thrown error is recorded on the span and rethrown.
 */
export async function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>, parent: Context = context.active(), kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  const span = trace.getTracer(TRACER).startSpan(name, { attributes, kind }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Starts the server span of an HTTP request, the child of the caller's `traceparent` header if it
 * sent one; runs `next` inside it (so the work the request causes, tasks included, is its child)
 * and answers the function that ends it with the response's status.
 */
export function serverSpan(name: string, headers: Record<string, unknown>, attributes: Attributes, next: () => void): (status: number) => void {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = trace.getTracer(TRACER).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  context.with(trace.setSpan(parent, span), next);
  return (status) => {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
}
