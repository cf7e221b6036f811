// The console's pure logic, without a browser: search snippets split on their markers, the job
// page's per-document state folded from events, and the Operate charts' samples of /metrics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReamEvent } from '../../src/client/index.ts';
import { foldEvent, pagesOf, type DocumentStates } from '../../ui/src/job-state.ts';
import { parseMetrics, rates, type Sample } from '../../ui/src/metrics.ts';
import { snippetParts } from '../../ui/src/snippet.ts';

describe('snippetParts', () => {
  test('splits on « » into plain and matched parts, markers dropped', () => {
    assert.deepEqual(snippetParts('an «invoice» for «ACME» ltd'), [
      { text: 'an ', match: false },
      { text: 'invoice', match: true },
      { text: ' for ', match: false },
      { text: 'ACME', match: true },
      { text: ' ltd', match: false },
    ]);
  });

  test('markup stays in the parts as characters; an unclosed marker is plain text', () => {
    assert.deepEqual(snippetParts('«<img src=x onerror=alert(1)>» then «open'), [
      { text: '<img src=x onerror=alert(1)>', match: true },
      { text: ' then «open', match: false },
    ]);
    assert.deepEqual(snippetParts(''), []);
  });
});

describe('foldEvent', () => {
  const progress = { documentsDone: 0, documentsTotal: 1, pagesDone: 0, pagesTotal: 30, percent: 0, etaSeconds: null };
  let seq = 0;
  const event = (type: ReamEvent['type'], at: number, extra: Partial<ReamEvent> = {}): ReamEvent => ({ seq: ++seq, type, jobId: 'job_1', tenantId: 't', at, progress, ...extra });

  test('chunks fill a document in; a failed chunk and a failed document carry their error; other documents stay as they were', () => {
    let documents: DocumentStates = new Map();
    documents = foldEvent(documents, event('document.started', 1000, { documentId: 'doc_a' }));
    documents = foldEvent(documents, event('chunk.completed', 2000, { documentId: 'doc_a', chunk: { index: 0, from: 0, to: 10 } }));
    documents = foldEvent(documents, event('chunk.completed', 3000, { documentId: 'doc_a', chunk: { index: 2, from: 20, to: 30 } }));
    const before = documents;
    documents = foldEvent(documents, event('job.progress', 3500));
    assert.equal(documents, before, 'an event of no document changes nothing');
    documents = foldEvent(documents, event('chunk.failed', 4000, { documentId: 'doc_a', chunk: { index: 1, from: 10, to: 20 }, error: { code: 'timeout', message: 'took too long', retryable: true } }));
    documents = foldEvent(documents, event('document.failed', 5000, { documentId: 'doc_a', error: { code: 'timeout', message: 'a chunk failed', retryable: false } }));
    documents = foldEvent(documents, event('document.completed', 5000, { documentId: 'doc_b' }));

    const a = documents.get('doc_a');
    assert.ok(a);
    assert.equal(a.status, 'failed');
    assert.equal(a.error, 'a chunk failed (timeout)');
    assert.deepEqual([...a.chunks.entries()].sort(([x], [y]) => x - y).map(([index, chunk]) => [index, chunk.state, chunk.message]), [
      [0, 'done', ''],
      [1, 'failed', 'took too long (timeout)'],
      [2, 'done', ''],
    ]);
    assert.deepEqual(pagesOf(a), { pages: 20, perSecond: 20 / 4 }, '20 pages read in the 4 s between its first and last event');
    assert.equal(documents.get('doc_b')?.status, 'succeeded');
    assert.equal(before.get('doc_a')?.chunks.has(1), false, 'the previous state is not mutated');
  });
});

describe('parseMetrics and rates', () => {
  const scrape = (pages: number, failed: number, queued: number): string =>
    [
      '# HELP ream_pages_processed_total Pages in chunks that completed in this process.',
      '# TYPE ream_pages_processed_total counter',
      `ream_pages_processed_total ${pages}`,
      `ream_chunks_processed_total{outcome="completed"} ${pages / 10}`,
      `ream_chunks_processed_total{outcome="failed"} ${failed}`,
      `ream_queue_tasks{status="queued"} ${queued}`,
      'ream_queue_tasks{status="completed"} 1000',
      'ream_http_request_duration_seconds_bucket{le="+Inf",route="/v1/jobs"} NaN',
    ].join('\n');

  test('sums by metric and by outcome or status label; skips comments and values that are not numbers', () => {
    const values = parseMetrics(scrape(120, 2, 7));
    assert.equal(values.get('ream_pages_processed_total'), 120);
    assert.equal(values.get('ream_chunks_processed_total'), 14);
    assert.equal(values.get('ream_chunks_processed_total{outcome="failed"}'), 2);
    assert.equal(values.get('ream_queue_tasks{status="queued"}'), 7);
    assert.equal(values.get('ream_queue_tasks'), 1007);
    assert.equal(values.has('ream_http_request_duration_seconds_bucket'), false);
  });

  test('rates per second between samples; a counter reset (a restarted server) counts from zero', () => {
    const samples: Sample[] = [
      { at: 100, values: parseMetrics(scrape(0, 0, 0)) },
      { at: 102, values: parseMetrics(scrape(40, 1, 0)) },
      { at: 106, values: parseMetrics(scrape(100, 1, 0)) },
      { at: 108, values: parseMetrics(scrape(10, 0, 0)) },
    ];
    assert.deepEqual(rates(samples, 'ream_pages_processed_total'), [20, 15, 5]);
    assert.deepEqual(rates(samples, 'ream_chunks_processed_total{outcome="failed"}'), [0.5, 0, 0]);
  });
});
