// The console's pure logic, without a browser: search snippets split on their markers, the job
// page's per-document state folded from events, the Operate charts' lines of the metrics history,
// and the scale a list taller than a browser's layout scrolls on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobDocumentView, MetricsSample, ReamEvent } from '../../src/client/index.ts';
import { documentRows, etaOf, foldEvent, mergeListing, pagesOf, type DocumentStates } from '../../ui/src/job-state.ts';
import { historyLines, MAX_FAILURE_LINES, mergeSamples } from '../../ui/src/metrics.ts';
import { snippetParts } from '../../ui/src/snippet.ts';
import { MATCH_END, MATCH_START, readMarkedSnippet } from '../../src/search/snippet-marks.ts';
import { MAX_SCROLL_PX, scrollScale } from '../../ui/src/scroll-scale.ts';
import { anyFilter, describeFilters, filtersFromQuery, filtersToQuery, searchOptionsOf } from '../../ui/src/search-filters.ts';
import { href, parseRoute } from '../../ui/src/routes.ts';
import { usd } from '../../ui/src/money.ts';
import { fieldsOf, optionsOf, valuesOf } from '../../ui/src/option-form.ts';
import { EXTRACT_OPTIONS_SCHEMA, RULES_OPTIONS_SCHEMA } from '../../src/pipeline/option-schemas.ts';

describe('snippetParts', () => {
  test('splits at the matches\' offsets into plain and matched parts', () => {
    assert.deepEqual(snippetParts(readMarkedSnippet(`an ${MATCH_START}invoice${MATCH_END} for ${MATCH_START}ACME${MATCH_END} ltd`)), [
      { text: 'an ', match: false },
      { text: 'invoice', match: true },
      { text: ' for ', match: false },
      { text: 'ACME', match: true },
      { text: ' ltd', match: false },
    ]);
  });

  test('markup and the text\'s own « » stay in the parts as characters; offsets out of order or past the end are passed over', () => {
    const snippet = 'Il dit « <img src=x onerror=alert(1)> » et «facture»';
    assert.deepEqual(snippetParts({ snippet, matches: [{ start: 9, end: 37 }, { start: 44, end: 51 }] }), [
      { text: 'Il dit « ', match: false },
      { text: '<img src=x onerror=alert(1)>', match: true },
      { text: ' » et «', match: false },
      { text: 'facture', match: true },
      { text: '»', match: false },
    ]);
    assert.deepEqual(snippetParts({ snippet: 'abc', matches: [{ start: 1, end: 2 }, { start: 0, end: 1 }, { start: 2, end: 9 }] }), [
      { text: 'a', match: false },
      { text: 'b', match: true },
      { text: 'c', match: false },
    ]);
    assert.deepEqual(snippetParts({ snippet: '', matches: [] }), []);
  });

  test('the database\'s marks: an unclosed or empty one marks nothing and is dropped', () => {
    assert.deepEqual(readMarkedSnippet(`${MATCH_START}${MATCH_END}a ${MATCH_START}b${MATCH_END} ${MATCH_START}c`), { snippet: 'a b c', matches: [{ start: 2, end: 3 }] });
  });
});

describe('documentRows', () => {
  const listedDoc = (id: string, status: JobDocumentView['status'], pagesTotal: number | null = null): JobDocumentView => ({
    id, ordinal: Number(id.slice(-1)), name: `${id}.pdf`, status, pagesTotal, chunksTotal: null, error: null, startedAt: null, finishedAt: null,
  });
  const progress = { documentsDone: 0, documentsTotal: 3, pagesDone: 0, pagesTotal: 3, percent: 0, etaSeconds: null };

  test('listed documents first in input order, queued ones included; events fill in; the rest follow', () => {
    const listed = [{ ...listedDoc('doc_0', 'succeeded', 4), name: 'zero.pdf' }, listedDoc('doc_1', 'running'), listedDoc('doc_2', 'queued')];
    let states: DocumentStates = new Map();
    states = foldEvent(states, { seq: 1, type: 'document.started', jobId: 'j', tenantId: 't', at: 1, progress, documentId: 'doc_1' });
    states = foldEvent(states, { seq: 2, type: 'document.started', jobId: 'j', tenantId: 't', at: 1, progress, documentId: 'doc_9' });
    const rows = documentRows(listed, states);
    assert.deepEqual(rows.map((r) => [r.id, r.name, r.status, r.pagesTotal, r.done]), [
      ['doc_0', 'zero.pdf', 'succeeded', 4, true],
      ['doc_1', 'doc_1.pdf', 'running', null, false],
      ['doc_2', 'doc_2.pdf', 'queued', null, false],
      ['doc_9', '', 'running', null, false],
    ]);
    // An end the listing saw wins over events that have not caught up; a live event wins over a stale "queued".
    states = foldEvent(states, { seq: 3, type: 'document.started', jobId: 'j', tenantId: 't', at: 2, progress, documentId: 'doc_2' });
    const later = documentRows([listedDoc('doc_1', 'cancelled'), listedDoc('doc_2', 'queued')], states);
    assert.deepEqual(later.map((r) => [r.status, r.done]), [['cancelled', false], ['running', false], ['running', false]]);
    // A failure: the listing's error when it has one, else the events'. Unlisted ones in the order
    // their events came, while they run: an ended one waits for the page of the listing that holds it.
    states = foldEvent(states, { seq: 4, type: 'document.failed', jobId: 'j', tenantId: 't', at: 3, progress, documentId: 'doc_9', error: { code: 'timeout', message: 'slow', retryable: false } });
    const failed: JobDocumentView = { ...listedDoc('doc_0', 'failed'), error: { code: 'invalid_pdf', message: 'broken', retryable: false } };
    assert.deepEqual(documentRows([failed], states).map((r) => [r.id, r.status, r.done, r.error]), [
      ['doc_0', 'failed', true, 'broken (invalid_pdf)'],
      ['doc_1', 'running', false, ''],
      ['doc_2', 'running', false, ''],
    ]);
    assert.deepEqual(documentRows([failed, listedDoc('doc_9', 'running')], states).map((r) => [r.id, r.status, r.error]).at(1), ['doc_9', 'failed', 'slow (timeout)'], 'listed: its end from the events');
  });

  test('mergeListing: a fresh first page replaces its documents and keeps the pages read after it', () => {
    const pageOne = [listedDoc('doc_0', 'queued'), listedDoc('doc_1', 'queued')];
    const pageTwo = [listedDoc('doc_2', 'queued'), listedDoc('doc_3', 'queued')];
    const fresh = [listedDoc('doc_0', 'succeeded'), listedDoc('doc_1', 'running')];
    assert.deepEqual(mergeListing([...pageOne, ...pageTwo], fresh).map((d) => [d.id, d.status]), [
      ['doc_0', 'succeeded'], ['doc_1', 'running'], ['doc_2', 'queued'], ['doc_3', 'queued'],
    ]);
    assert.deepEqual(mergeListing([], fresh).map((d) => d.id), ['doc_0', 'doc_1'], 'the first read');
    assert.deepEqual(mergeListing(pageOne, []).map((d) => d.id), ['doc_0', 'doc_1'], 'an empty read keeps what was read');
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
    assert.equal(etaOf(20, 100, 5), 16, '80 pages left at 5 pages/s');
    assert.equal(etaOf(20, 101, 5), 17, 'rounded up: never "0 s left" while pages remain');
    assert.equal(etaOf(20, null, 5), null, 'no page count: no ETA');
    assert.equal(etaOf(20, 100, null), null, 'no rate yet: no ETA');
    assert.equal(etaOf(100, 100, 5), null, 'all read: no ETA');
    assert.equal(documents.get('doc_b')?.status, 'succeeded');
    assert.equal(before.get('doc_a')?.chunks.has(1), false, 'the previous state is not mutated');
  });
});

describe('metrics history lines', () => {
  const sample = (at: number, overrides: Partial<MetricsSample> = {}): MetricsSample => ({
    at, intervalMs: 10_000, pages: 0, tasks: 0, tasksFailed: 0, documents: 0, documentsFailed: 0, failures: {}, queued: 0, running: 0, oldestQueuedMs: null, tokens: 0, ...overrides,
  });

  test('per-second rates over each interval, times at its end, the oldest waiting job in seconds', () => {
    const lines = historyLines([sample(0, { pages: 50, tasks: 5, tokens: 100, queued: 3, oldestQueuedMs: 2_500 }), sample(10_000, { pages: 20 })]);
    assert.deepEqual(lines.times, [10, 20]);
    assert.deepEqual(lines.pagesPerSecond, [5, 2]);
    assert.deepEqual(lines.tasksPerSecond, [0.5, 0]);
    assert.deepEqual(lines.tokensPerSecond, [10, 0]);
    assert.deepEqual(lines.queued, [3, 0]);
    assert.deepEqual(lines.oldestQueuedSeconds, [2.5, 0]);
  });

  test(`failures by code, the most frequent first; past ${MAX_FAILURE_LINES} lines the rarest are summed as "other"`, () => {
    const lines = historyLines([
      sample(0, { failures: { timeout: 30, invalid_pdf: 10, empty_file: 10, ocr_failed: 5, encrypted_pdf: 5 } }),
      sample(10_000, { failures: { timeout: 10, encrypted_pdf: 10 } }),
    ]);
    assert.deepEqual(lines.failures.map((line) => line.code), ['timeout', 'encrypted_pdf', 'empty_file', 'other']);
    assert.deepEqual(lines.failures[0]?.perSecond, [3, 1]);
    assert.deepEqual(lines.failures[3]?.perSecond, [1.5, 0], 'invalid_pdf and ocr_failed');
  });

  test('merging a read into what is shown: one sample per interval, in order, none older than the span', () => {
    const merged = mergeSamples([sample(0), sample(10_000), sample(20_000, { pages: 1 })], [sample(20_000, { pages: 2 }), sample(30_000)], 10_000);
    assert.deepEqual(merged.map((s) => [s.at, s.pages]), [[10_000, 0], [20_000, 2], [30_000, 0]]);
  });
});

describe('the option form of a pipeline\'s schema', () => {
  test('a control per property: numbers, choices, yes/no, text, JSON for the rest; required ones marked', () => {
    const fields = new Map(fieldsOf(RULES_OPTIONS_SCHEMA).map((field) => [field.key, field]));
    assert.equal(fields.get('chunkPages')?.kind, 'integer');
    assert.equal(fields.get('chunkPages')?.minimum, 1);
    assert.deepEqual([fields.get('ocr')?.kind, fields.get('ocr')?.choices], ['choice', ['auto', 'always', 'never']]);
    assert.equal(fields.get('index')?.kind, 'boolean');
    assert.equal(fields.get('template')?.kind, 'longtext', 'a template is several lines');
    assert.deepEqual([fields.get('ocrLanguages')?.kind, fields.get('ocrLanguages')?.textAllowed], ['json', true], 'a list (JSON) or a string');
    assert.deepEqual([fields.get('rules')?.kind, fields.get('rules')?.required], ['json', true]);
    assert.deepEqual(fieldsOf({ type: 'object' }), [], 'no properties: options as JSON');
  });

  test('the options of what was entered: empty fields left to the default, values typed; bad text names its field', () => {
    const fields = fieldsOf(EXTRACT_OPTIONS_SCHEMA);
    assert.deepEqual(optionsOf(fields, { chunkPages: ' 10 ', index: 'false', ocr: 'always', ocrLanguages: '["eng","deu"]', template: '', maxPages: '' }), {
      chunkPages: 10, index: false, ocr: 'always', ocrLanguages: ['eng', 'deu'],
    });
    assert.throws(() => optionsOf(fields, { chunkPages: '2.5' }), /chunkPages must be a whole number/);
    assert.deepEqual(optionsOf(fields, { ocrLanguages: 'eng+fra' }), { ocrLanguages: 'eng+fra' }, 'the string form its description offers');
    const template = '<ul>\n  {% for f in fields %}<li>{{ f }}</li>{% endfor %}\n</ul>\n';
    assert.deepEqual(optionsOf(fieldsOf(RULES_OPTIONS_SCHEMA), { rules: '[]', template }), { rules: [], template }, 'a template keeps its lines and indentation');
    assert.throws(() => optionsOf(fieldsOf(RULES_OPTIONS_SCHEMA), { rules: '[{bad' }), /rules must be JSON/);
    // Options typed as JSON before the form existed: into its values and back, the same object.
    const typed = { chunkPages: 10, index: false, ocr: 'always', ocrLanguages: ['eng', 'deu'] };
    const carried = valuesOf(fields, { ...typed, colour: 'red' });
    assert.deepEqual(carried.unknown, ['colour']);
    assert.deepEqual(optionsOf(fields, carried.values), typed);
    assert.deepEqual(optionsOf(fields, valuesOf(fields, { ocrLanguages: 'eng+fra' }).values), { ocrLanguages: 'eng+fra' });
  });
});

describe('search filters in the hash route', () => {
  test('a search with every filter survives the hash query and back; unset filters leave no trace', () => {
    const filters = { job: 'job_1', type: 'pdf', from: '2026-12-01', to: '2026-12-05', fieldName: 'invoice', fieldValue: 'INV:7 b' };
    const query = filtersToQuery(filters, new URLSearchParams({ q: 'total due' }));
    assert.equal(query.toString(), 'q=total+due&job=job_1&type=pdf&from=2026-12-01&to=2026-12-05&field=invoice%3AINV%3A7+b');
    assert.deepEqual(filtersFromQuery(new URLSearchParams(query.toString())), filters);
    assert.equal(filtersToQuery({ job: ' ', fieldName: 'invoice', fieldValue: '' }, new URLSearchParams()).toString(), '', 'blank and half-made filters are dropped');
    assert.deepEqual(filtersFromQuery(new URLSearchParams('field=no-colon')), { job: '', type: '', from: '', to: '', fieldName: '', fieldValue: '' });
  });

  test('the set filters become the SDK\'s options, a field as one name/value pair', () => {
    assert.deepEqual(searchOptionsOf({ job: 'job_1', type: '', from: '2026-12-01', fieldName: ' invoice ', fieldValue: 'INV-7' }), { jobId: 'job_1', from: '2026-12-01', fields: [['invoice', 'INV-7']] });
    assert.deepEqual(searchOptionsOf({ fieldName: 'invoice' }), {}, 'a name without a value is no filter');
    assert.equal(anyFilter({ type: 'image' }), true);
    assert.equal(anyFilter({ job: '', fieldValue: 'x' }), false);
    // Every set filter is said, even one the form cannot show (a media type, a date-time from a link).
    assert.equal(describeFilters({ type: 'application/pdf', from: '2026-12-01T08:00:00Z', fieldName: 'invoice', fieldValue: 'INV-2' }), 'type application/pdf, from 2026-12-01T08:00:00Z, field invoice:INV-2');
    assert.equal(filtersToQuery({ to: '2026-12-05' }, new URLSearchParams({ q: 'a' })).toString(), 'q=a&to=2026-12-05');
    assert.deepEqual(filtersFromQuery(new URLSearchParams('field=a:b:c')), { job: '', type: '', from: '', to: '', fieldName: 'a', fieldValue: 'b:c' });
  });
});

describe('usd: costs as the console shows them', () => {
  test('two decimals at least, three significant digits under a dollar', () => {
    assert.deepEqual([0, 0.1, 0.5, 0.123, 0.1234, 0.00123, 0.000219, 0.9996, 1, 12.345, 1234.5].map(usd), [
      '$0.00', '$0.10', '$0.50', '$0.123', '$0.123', '$0.00123', '$0.000219', '$1.00', '$1.00', '$12.35', '$1,234.50',
    ]);
    assert.equal(usd(-0.1), '-$0.10');
  });
});

describe('hash routes', () => {
  test('a route survives its link; a link with bad percent-encoding is a page of its own, not a crash', () => {
    const route = { page: 'document', jobId: 'job_1', documentId: 'doc a/b', at: 3 } as const;
    assert.deepEqual(parseRoute(href(route)), route);
    assert.deepEqual(parseRoute('#/jobs/%E0%A4%A'), { page: 'job', jobId: '%E0%A4%A' });
    assert.deepEqual(parseRoute('#main'), { page: 'jobs' });
    const filtered = { page: 'jobs', status: 'failed', tenant: '*' } as const;
    assert.equal(href(filtered), '#/jobs?status=failed&tenant=*');
    assert.deepEqual(parseRoute(href(filtered)), filtered, 'the job list\'s filters survive a reload');
    assert.equal(href({ page: 'jobs', status: '', tenant: '' }), '#/jobs');
    const searched = { page: 'jobs', status: 'failed', q: 'inv oice&x', sort: 'created' } as const;
    assert.equal(href(searched), '#/jobs?status=failed&q=inv+oice%26x&sort=created');
    assert.deepEqual(parseRoute(href(searched)), searched, 'the search and the order survive a reload');
    assert.equal(href({ page: 'jobs', q: '', sort: '' }), '#/jobs');
  });
});

describe('scrollScale: a list taller than a browser lays out', () => {
  test('under the cap, real and virtual are the same', () => {
    const scale = scrollScale(36 * 30_000, 600);
    assert.equal(scale.realTotal, 36 * 30_000);
    assert.deepEqual([scale.toVirtual(12_345), scale.toReal(12_345)], [12_345, 12_345]);
  });

  test('a million 36 px rows: laid out at the cap, the whole scroll range maps onto the whole list', () => {
    const total = 36 * 1_000_000;
    const viewport = 600;
    const scale = scrollScale(total, viewport);
    assert.equal(scale.realTotal, MAX_SCROLL_PX);
    assert.ok(MAX_SCROLL_PX < 2 ** 25 && MAX_SCROLL_PX < 17_895_697, 'under Chromium\'s and Firefox\'s tallest layout');
    assert.equal(scale.toVirtual(0), 0, 'the top is the first row');
    assert.equal(scale.toVirtual(MAX_SCROLL_PX - viewport), total - viewport, 'the bottom shows the last row');
    assert.equal(scale.toVirtual(MAX_SCROLL_PX * 2), total - viewport, 'clamped past the end');
    for (const real of [1, 1_000, 7_500_000, MAX_SCROLL_PX - viewport]) {
      assert.ok(Math.abs(scale.toReal(scale.toVirtual(real)) - real) < 1e-6, `round trip at ${real}`);
    }
    const middle = scale.toVirtual((MAX_SCROLL_PX - viewport) / 2);
    assert.ok(Math.abs(middle - (total - viewport) / 2) < 1, 'halfway is halfway');
  });
});
