// A table's column names and row records: every column keyed once, whatever its header says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellRecord, columnNames } from '../../src/formats/sheet/cells.ts';
import { markNotUtf8, NOT_UTF8, notUtf8Row } from '../../src/formats/sheet/utf8-check.ts';

test('repeated and blank headers get _2, _3 … and column_<n>; a name repeated 40,000 times is named at once', () => {
  assert.deepEqual(columnNames(['a', '', 'a', ' ', 'A', 'a_2', 'a']), ['a', 'column_2', 'a_2', 'column_4', 'A', 'a_2_2', 'a_3']);
  const started = performance.now();
  const names = columnNames(Array.from({ length: 40_000 }, () => '0'));
  assert.ok(performance.now() - started < 2_000, `${Math.round(performance.now() - started)} ms: not quadratic`);
  assert.equal(new Set(names).size, 40_000);
  assert.deepEqual(names.slice(0, 3), ['0', '0_2', '0_3']);
  assert.equal(names.at(-1), '0_40000');
});

test('a column named __proto__ (or constructor) keeps its values', () => {
  const record = cellRecord(['__proto__', 'constructor', 'toString'], ['P', 'C', 'T']);
  assert.equal(Object.getPrototypeOf(record), Object.prototype, 'the record\'s prototype is untouched');
  assert.deepEqual(Object.keys(record), ['__proto__', 'constructor', 'toString']);
  assert.equal(JSON.stringify(record), '{"__proto__":"P","constructor":"C","toString":"T"}');
  assert.equal((JSON.parse(JSON.stringify(record)) as Record<string, string>)['__proto__'], 'P');
});

test('bytes that are not UTF-8 are marked where they are, and only the rows holding them fail', () => {
  const valid = Buffer.from('id,name\n1,Café €\n2,😀\n');
  assert.equal(markNotUtf8(valid).marked, false);
  assert.equal(markNotUtf8(valid).bytes, valid, 'valid bytes are used as they are');
  // Latin-1 é and ü, a lone continuation byte, a truncated 3-byte sequence at the end, an overlong form.
  const mixed = Buffer.concat([Buffer.from('1,Caf'), Buffer.from([0xe9]), Buffer.from(' M'), Buffer.from([0xfc]), Buffer.from('ller\n2,ok\n3,'), Buffer.from([0x80]),
    Buffer.from('\n4,'), Buffer.from([0xc0, 0xaf]), Buffer.from('\n5,'), Buffer.from([0xe2, 0x82])]);
  const { bytes, marked } = markNotUtf8(mixed);
  assert.equal(marked, true);
  const lines = bytes.toString('utf8').split('\n');
  assert.deepEqual(lines, [`1,Caf${NOT_UTF8} M${NOT_UTF8}ller`, '2,ok', `3,${NOT_UTF8}`, `4,${NOT_UTF8}${NOT_UTF8}`, `5,${NOT_UTF8}${NOT_UTF8}`]);
  assert.match(notUtf8Row(['1', `Caf${NOT_UTF8}`], 7) ?? '', /^row 7 holds bytes that are not UTF-8/);
  assert.equal(notUtf8Row(['2', 'ok', null, 3], 8), undefined);
});
