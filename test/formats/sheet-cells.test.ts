// A table's column names and row records: every column keyed once, whatever its header says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellRecord, columnNames } from '../../src/formats/sheet/cells.ts';

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
