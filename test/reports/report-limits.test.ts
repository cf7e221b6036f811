// A hostile template costs one row, never the process: the row fails with its code, its
// siblings render, and nothing of it is stored.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import type { CellValue, PageText } from '../../src/formats/types.ts';
import { fromJson } from '../../src/json.ts';
import type { ReportsData } from '../../src/reports/artifacts.ts';
import { reportSpec } from '../../src/reports/report-options.ts';
import { reportsAnalyzer } from '../../src/reports/reports-analyzer.ts';

/** Renders `rows` (cells by column) with `options` as one chunk: its files by row, its failures, and the blobs stored. */
async function renderRows(t: TestContext, options: Record<string, string>, rows: Record<string, CellValue>[]) {
  const dir = await mkdtemp(join(tmpdir(), 'ream-report-limits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const blobs = new FsBlobStore(join(dir, 'blobs'), { fsync: false });
  const spec = reportSpec(options);
  assert.ok(spec);
  const analyzer = reportsAnalyzer(spec);
  const pages: PageText[] = rows.map((cells, index) => ({ page: index + 1, text: '', source: 'text', cells }));
  const context = { documentId: 'doc_1', jobId: 'job_1', signal: new AbortController().signal, blobs, chunk: { index: 0, from: 0, to: rows.length } };
  const chunk = await analyzer.analyzeChunk!(pages, context);
  const finished = await analyzer.finish!([{ index: 0, from: 0, to: rows.length, ...(chunk.data === undefined ? {} : { data: chunk.data }) }], {}, context);
  const artifacts = fromJson<ReportsData>(finished.data ?? null).artifacts;
  const stored = (await readdir(join(dir, 'blobs'), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).length;
  return { artifacts, failures: chunk.failures ?? [], stored };
}

test('a row whose template builds a 30-million range fails alone with resource_limit; the other rows render', async (t) => {
  const started = Date.now();
  const { artifacts, failures, stored } = await renderRows(t, { template: '{% assign a = (1..n) %}<p>{{ a | sort | size }}</p>' }, [{ n: '3' }, { n: '30000000' }, { n: '5' }]);
  assert.ok(Date.now() - started < 5_000, `done in ${Date.now() - started} ms`);
  assert.deepEqual(failures.map((failure) => [failure.page, failure.code]), [[2, 'resource_limit']]);
  assert.deepEqual(artifacts.map((artifact) => [artifact.row, artifact.name]), [[1, 'row-1.html'], [3, 'row-3.html']]);
  assert.equal(stored, 2);
});

test('a report past 8 MiB fails its row with resource_limit and stores nothing of it; the other rows render', async (t) => {
  // Literal text in a loop: Liquid's memory budget counts what filters make, not what a template prints.
  const template = `{% if big == "yes" %}{% for i in (1..10000) %}<p>${'x'.repeat(1000)}</p>{% endfor %}{% else %}<p>{{ big }}</p>{% endif %}`;
  const { artifacts, failures, stored } = await renderRows(t, { template }, [{ big: 'no' }, { big: 'yes' }, { big: 'no' }]);
  assert.deepEqual(failures.map((failure) => [failure.page, failure.code]), [[2, 'resource_limit']]);
  assert.match(failures[0]!.message, /the template rendered 10070000 bytes; at most 8388608 are allowed/);
  assert.deepEqual(artifacts.map((artifact) => [artifact.row, artifact.name, artifact.size]), [[1, 'row-1.html', 9], [3, 'row-3.html', 9]]);
  assert.equal(stored, 1, 'rows 1 and 3 have the same bytes; row 2 stored nothing');
});
