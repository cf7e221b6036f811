import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'csv-stringify/sync';
import { csvText } from '../../src/exports/csv-text.ts';
import type { CellValue } from '../../src/formats/types.ts';

test('csvText writes the bytes csv-stringify writes with the options ream rows used', () => {
  const rows: CellValue[][] = [
    ['plain', '', null, 0, 1.5, -2, true, false],
    ['a,b', 'say "hi"', 'line\nbreak', 'cr\ronly', 'crlf\r\n', '"', ',', ' spaced '],
    ['=1+1', 'é ü 日本', '\t tab', "'quote'", '""', 'x"y,z', 'a;b', '|'],
    [''],
  ];
  const expected = stringify(rows, { cast: { boolean: (value) => String(value), number: (value) => String(value) } });
  assert.equal(csvText(rows), expected);
  assert.equal(csvText([]), '');
});
