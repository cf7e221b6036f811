// How the HTTP query's strings become search filters: dates, epoch ms, field pairs, types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldKey, mediaTypeMatch, parseSearchFilters, parseSearchTime, recordedFieldValues } from '../../src/search/filters.ts';
import { ReamError } from '../../src/errors.ts';

const refused = (run: () => unknown, message: RegExp): void => {
  assert.throws(run, (error: unknown) => error instanceof ReamError && error.code === 'validation_failed' && message.test(error.message));
};

void test('times: epoch ms, a whole UTC day (its start for from, its last millisecond for to), a date-time with a zone', () => {
  assert.equal(parseSearchTime('from', '1765000000000'), 1_765_000_000_000);
  assert.equal(parseSearchTime('from', '2026-12-01'), Date.UTC(2026, 11, 1));
  assert.equal(parseSearchTime('to', '2026-12-01'), Date.UTC(2026, 11, 2) - 1);
  assert.equal(parseSearchTime('to', '2026-12-01T08:30:00+01:00'), Date.UTC(2026, 11, 1, 7, 30));
  assert.equal(parseSearchTime('from', ' 2024-02-29 '), Date.UTC(2024, 1, 29));
  for (const bad of ['yesterday', '2026-02-31', '2025-02-29', '2026-02-31T00:00:00Z', '2025-02-29T12:00:00+01:00', '2026-13-01', '2026-12-01T08:00', '12/01/2026', '-5', '1e3', '']) {
    refused(() => parseSearchTime('from', bad), /from must be an ISO date \(2026-12-01\)/);
  }
});

void test('filters from the query: field pairs split at the first colon, repeatable; bad ones refused with a clear message', () => {
  assert.deepEqual(parseSearchFilters({ job: 'job_1', type: 'PDF', from: '2026-12-01', to: '2026-12-01', field: ['invoice:INV:7', 'total:10'] }), {
    jobId: 'job_1', mediaType: 'PDF', from: Date.UTC(2026, 11, 1), to: Date.UTC(2026, 11, 2) - 1,
    fields: [{ name: 'invoice', value: 'INV:7' }, { name: 'total', value: '10' }],
  });
  assert.deepEqual(parseSearchFilters({ field: 'a:b' }), { fields: [{ name: 'a', value: 'b' }] });
  assert.deepEqual(parseSearchFilters({ job: '', type: '' }), {}, 'empty parameters are no filter');
  refused(() => parseSearchFilters({ field: ['invoice'] }), /field must be name:value/);
  refused(() => parseSearchFilters({ field: 'invoice:' }), /field invoice needs a value/);
  refused(() => parseSearchFilters({ type: 'spreadsheet' }), /one of pdf, image, sheet, word, html, text, email/);
  refused(() => parseSearchFilters({ from: '2026-12-02', to: '2026-12-01' }), /from must not be after to/);
});

void test('types: a family stands for its media types; names and values compare case-insensitively, whole', () => {
  assert.deepEqual(mediaTypeMatch('image'), { prefix: 'image/' });
  assert.deepEqual(mediaTypeMatch('Sheet'), { exact: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'text/csv'] });
  assert.deepEqual(mediaTypeMatch('Text/CSV'), { exact: ['text/csv'] });
  assert.equal(fieldKey('  Ünïcode NAME '), 'ünïcode name');
  assert.equal(fieldKey('e\u0301'), fieldKey('\u00e9'), 'composed and decomposed accents are one value');
  assert.deepEqual(recordedFieldValues({ Invoice: [{ value: 'INV-1' }, { value: 'inv-1' }, { value: 'x'.repeat(201) }, { value: ' ' }], empty: [], ['n'.repeat(201)]: [{ value: 'v' }] }), [{ name: 'invoice', value: 'inv-1' }], 'duplicates, blanks and over-long names or values are left out');
});
