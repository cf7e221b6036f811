// `ream search` lines: the snippet on one line, its matches in bold on a terminal only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { highlightsMatches, searchHitLine } from '../../src/cli/search-hit-line.ts';

const hit = { documentId: 'd1', name: 'fr.txt', page: 2, snippet: 'Il dit « facture »\net\tfacture', matches: [{ start: 9, end: 16 }, { start: 22, end: 29 }] };

test('on a terminal the matched words are bold; the page\'s own « » stay as text, and whitespace becomes one space', () => {
  assert.equal(searchHitLine(hit, true), 'd1\tfr.txt\t2\tIl dit « \u001b[1mfacture\u001b[22m » et \u001b[1mfacture\u001b[22m\n');
});

test('piped, the snippet is plain; offsets out of order or past the end are passed over', () => {
  assert.equal(searchHitLine(hit, false), 'd1\tfr.txt\t2\tIl dit « facture » et facture\n');
  assert.equal(searchHitLine({ ...hit, matches: [{ start: 22, end: 29 }, { start: 9, end: 16 }, { start: 25, end: 99 }] }, true), 'd1\tfr.txt\t2\tIl dit « facture » et \u001b[1mfacture\u001b[22m\n');
});

test('bold only on a terminal, and never with NO_COLOR', () => {
  assert.equal(highlightsMatches({ isTTY: true }, {}), true);
  assert.equal(highlightsMatches({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(highlightsMatches({ isTTY: false }, {}), false);
  assert.equal(highlightsMatches({}, {}), false);
});

test('control characters of a page or a file name (a terminal\'s escapes) are printed as \u{fffd}, the matches still where they were', () => {
  const hostile = { documentId: 'd2', name: 'x\u001b[31m.txt', page: 1, snippet: 'a\u001b]0;title\u0007 facture\u009b2J', matches: [{ start: 12, end: 19 }] };
  assert.equal(searchHitLine(hostile, true), 'd2\tx\ufffd[31m.txt\t1\ta\ufffd]0;title\ufffd \u001b[1mfacture\u001b[22m\ufffd2J\n');
  assert.equal(searchHitLine(hostile, false), 'd2\tx\ufffd[31m.txt\t1\ta\ufffd]0;title\ufffd facture\ufffd2J\n');
});

test('a file name with tabs or line breaks stays in its column: the hit is one line of four', () => {
  const line = searchHitLine({ ...hit, name: 'bad\tname\r\nsecond line.txt' }, false);
  assert.equal(line, 'd1\tbad name second line.txt\t2\tIl dit « facture » et facture\n');
  assert.equal(line.split('\t').length, 4);
});
