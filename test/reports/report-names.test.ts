// Report file names: safe on every file system (bytes, not characters), and stable across a
// retry of failed rows (a failed row keeps its name, so the rows after it keep theirs).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { fromJson } from '../../src/json.ts';
import type { PageText } from '../../src/formats/types.ts';
import type { ReportsData } from '../../src/reports/artifacts.ts';
import { safeFileName } from '../../src/reports/file-names.ts';
import { reportSpec } from '../../src/reports/report-options.ts';
import { reportsAnalyzer } from '../../src/reports/reports-analyzer.ts';

test('safeFileName: at most 180 UTF-8 bytes, cut between characters, whatever the script', () => {
  for (const char of ['中', '😀', 'é', 'a']) {
    const name = safeFileName(char.repeat(300), 'fallback');
    assert.ok(Buffer.byteLength(name) <= 180, `${char}: ${Buffer.byteLength(name)} bytes`);
    assert.ok(name.length > 0 && [...name].every((c) => c === char), `${char}: whole characters only`);
    // With a suffix, an extension and a partial-file suffix, still under the 255 bytes a file system allows.
    assert.ok(Buffer.byteLength(`${name}-99.html.partial-0a1b2c3d`) <= 255);
  }
  assert.equal(safeFileName('abc....', 'x'), 'abc');
  assert.equal(safeFileName('...', 'x'), 'x');
  assert.equal(safeFileName('a'.repeat(111) + '.b', 'x'), 'a'.repeat(111), 'cut at 112 characters, and no dot left at the end');
});

test('a failed row keeps its name: after a retry that renders it, the rows after it keep theirs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-report-names-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const blobs = new FsBlobStore(join(dir, 'blobs'), { fsync: false });
  const spec = reportSpec({ template: '<p>{{ amount | money: "EUR" }}</p>', name: 'inv' });
  assert.ok(spec);
  const analyzer = reportsAnalyzer(spec);
  const rows = (amounts: string[]): PageText[] => amounts.map((amount, index) => ({ page: index + 1, text: amount, source: 'text', cells: { amount } }));
  const context = { documentId: 'doc_1', jobId: 'job_1', signal: new AbortController().signal, blobs, chunk: { index: 0, from: 0, to: 3 } };
  const names = async (amounts: string[]): Promise<string[]> => {
    const chunk = await analyzer.analyzeChunk!(rows(amounts), context);
    const finished = await analyzer.finish!([{ index: 0, from: 0, to: 3, ...(chunk.data === undefined ? {} : { data: chunk.data }) }], {}, context);
    return fromJson<ReportsData>(finished.data ?? null).artifacts.map((a) => `${a.row}:${a.name}`);
  };
  // Row 2 fails (not a number): it renders nothing, and row 3 is still inv-3.
  assert.deepEqual(await names(['1', 'twelve', '3']), ['1:inv.html', '3:inv-3.html']);
  assert.deepEqual(await names(['1', '2', '3']), ['1:inv.html', '2:inv-2.html', '3:inv-3.html']);
});

test('an unknown time zone is refused with the options, not row by row', () => {
  assert.throws(() => reportSpec({ template: 'x', timezone: 'Mars/Olympus' }), { code: 'validation_failed', message: /timezone.*Mars\/Olympus/ });
  assert.ok(reportSpec({ template: 'x', timezone: 'Europe/Paris' }));
});
