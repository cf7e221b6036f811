// What `ream run --progress lines` prints about a file stays one honest line, whatever its name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable } from '../../src/cli/printable.ts';
import { createProgressView } from '../../src/cli/progress-view.ts';
import { formatRowsSummary } from '../../src/cli/rows-command.ts';

test('control and bidi characters are escaped; the rest, other scripts included, is kept', () => {
  assert.equal(printable('fake\n[9] failed secret.pdf'), 'fake\\u{a}[9] failed secret.pdf');
  assert.equal(printable('invoice\u202Efdp.exe\tx\u0007'), 'invoice\\u{202e}fdp.exe\\u{9}x\\u{7}');
  assert.equal(printable('Überweisung 発注書.pdf'), 'Überweisung 発注書.pdf');
});

test('a result line with a forged line in its file name is printed as one line, and "1 page" in the singular', (t) => {
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (chunk: string) => {
    written.push(chunk);
    return true;
  });
  const view = createProgressView('lines', 2);
  view.documentEnded({ path: 'a\n[2] succeeded b.pdf', status: 'succeeded', pageCount: 1 } as Parameters<typeof view.documentEnded>[0]);
  view.stop();
  const ended = written.filter((line) => line.startsWith('[1]'));
  assert.deepEqual(ended, ['[1] succeeded a\\u{a}[2] succeeded b.pdf (1 page)\n']);
});

test('ream rows says a failed file in one line whatever its name', () => {
  const line = formatRowsSummary({ rows: 0, failedRows: 0, batches: 0, wallSeconds: 0, interrupted: false, error: { code: 'invalid_sheet', message: 'no page could be read' } }, 'f\nx.csv', undefined);
  assert.equal(line, 'failed: f\\u{a}x.csv: no page could be read [invalid_sheet]');
});
