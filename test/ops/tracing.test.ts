// OpenTelemetry: one trace from an HTTP request through the tasks it causes to their stages,
// each span the child of the one that caused it (tasks carry their parent in their payload), in
// an in-process exporter. Without an SDK (the default) the same code records nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { activeTraceparent } from '../../src/tracing/spans.ts';
import { startTracing } from '../../src/tracing/start-tracing.ts';
import { tracingRequested } from '../../src/tracing/requested.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

test('tracing is off unless the OTEL_* variables ask for it', async () => {
  assert.equal(tracingRequested({}), false);
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
  assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), false);
  assert.equal(await startTracing(), undefined, 'nothing registered without an exporter or the variables');
  assert.equal(activeTraceparent(), undefined, 'no SDK: no trace to carry');
});

test('an HTTP request, its tasks and their stages form one trace, each span the child of its cause', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ exporter, immediate: true });
  assert.ok(tracing);
  const dir = await mkdtemp(join(tmpdir(), 'ream-tracing-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  try {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const body = new FormData();
    body.append('options', '{"chunkPages":2}');
    body.append('file', new Blob([await makePdf({ pages: numberedPages('T', 4) })], { type: 'application/pdf' }), 't.pdf');
    const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body, headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    assert.equal((await ream.wait(id)).status, 'succeeded');

    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
    const named = (name: string): ReadableSpan[] => spans.filter((span) => span.name === name);
    const [http] = named('HTTP POST /v1/jobs');
    assert.ok(http, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(parentOf(http), callerSpan, 'the request continues the caller\'s trace');
    const [inspect] = named('task document.inspect');
    assert.equal(inspect && parentOf(inspect), http.spanContext().spanId, 'the inspect task is the request\'s child');
    const extracts = named('task chunk.extract');
    assert.equal(extracts.length, 2, 'two chunks of two pages');
    assert.ok(extracts.every((span) => parentOf(span) === inspect?.spanContext().spanId), 'chunks are the inspect task\'s children');
    const [merge] = named('task document.merge');
    assert.equal(merge && parentOf(merge), inspect?.spanContext().spanId);
    const parses = named('parse');
    assert.deepEqual(parses.map(parentOf).sort(), extracts.map((span) => span.spanContext().spanId).sort(), 'one parse stage in each chunk task');
    assert.equal(named('inspect').length, 1);
    assert.equal(http.attributes['http.response.status_code'], 202);
  } finally {
    await server.close();
    await ream.close();
    await tracing.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
});
