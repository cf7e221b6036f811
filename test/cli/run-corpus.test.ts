// `ream run` over the shared corpus's transport sample (`corpusSample`), apart from run.test.ts so
// that the two run side by side. The whole corpus is parsed by test/formats/corpus-*.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { corpusDir, corpusSample, readManifest, requireCorpus } from '../support/env.ts';
import { runReam } from '../support/run-ream.ts';
import { readLines } from './lines.ts';

describe('ream run over the shared corpus (sample)', () => {
  // Minutes on a busy machine, so past the suite's default 5 min per test.
  test('every file ends with one line: ok files succeed with their page count, bad ones with a stable code', { timeout: 900_000 }, async (t) => {
    if (!requireCorpus(t)) return;
    const names = await corpusSample();
    const manifest = (await readManifest()).filter((entry) => names.includes(entry.name));
    const work = await mkdtemp(join(tmpdir(), 'ream-cli-corpus-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    // --ocr never: this test is about `ream run`, and OCR (seconds a page) has tests of its own.
    const result = await runReam(['run', ...names.map((name) => join(corpusDir, name)), '--out', 'out.jsonl', '--progress', 'lines', '--text', 'none', '--ocr', 'never'], { cwd: work });
    assert.equal(result.code, 1, 'some corpus files are bad, so exit 1');
    const lines = readLines(join(work, 'out.jsonl'));
    const pdfs = manifest.filter((m) => m.name.endsWith('.pdf') || m.name.endsWith('.csv'));
    assert.equal(lines.length, names.length, 'one line per file given');
    const byName = new Map(lines.map((l) => [l.path.split('/').at(-1), l]));
    const stable = new Set(['invalid_pdf', 'encrypted_pdf', 'unsupported_type', 'invalid_sheet', 'empty_file', 'too_many_pages', 'timeout', 'resource_limit']);
    for (const entry of pdfs) {
      const line = byName.get(entry.name);
      assert.ok(line, `a line for ${entry.name}`);
      if (entry.status === 'ok') {
        assert.notEqual(line.status, 'failed', `${entry.name}: ${line.error?.code} ${line.error?.message}`);
        assert.equal(line.pageCount, entry.pages, `${entry.name} page count`);
      } else if (line.status === 'failed') {
        assert.ok(line.error && stable.has(line.error.code), `${entry.name} fails with a stable code, got ${line.error?.code}`);
      }
    }
  });
});
