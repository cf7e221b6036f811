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
