// Rows packed in the pool thread (`sheet.extractPacked`, a rules-only `rows` job) must read back
// as the very checkpoint the engine's own path makes of the same rows: `packChunk` of the rows
// read, the failed rows and the fields of `perPage(rulesAnalyzer(rules))`. They are stored
// without each row's text, which `unpackChunk` makes again from the cells.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { perPage } from '../../src/analyzers/per-page.ts';
import { rulesAnalyzer, type RuleSpec } from '../../src/analyzers/rules/index.ts';
import { csvRows } from '../../src/formats/sheet/csv-rows.ts';
import { packRows } from '../../src/formats/sheet/packed-rows.ts';
import { tasks } from '../../src/formats/sheet/sheet-tasks.ts';
import { readRows, type TableReadOptions } from '../../src/formats/sheet/table.ts';
import { CSV_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import type { PackedRows } from '../../src/formats/types.ts';
import { asJson, fromJson } from '../../src/json.ts';
import { packChunk, unpackChunk } from '../../src/pipeline/merge.ts';

const dir = await mkdtemp(join(tmpdir(), 'ream-packed-rows-'));
after(() => rm(dir, { recursive: true, force: true }));

const RULES: RuleSpec[] = [
  { name: 'invoice', pattern: String.raw`INV-(\d+)`, all: true },
  { name: 'flag', keywords: ['urgent'] },
  { name: 'name', pattern: String.raw`name: (\w+)` },
];

/** Quoted line breaks and quotes, a blank line, a row too wide, a short row, non-ASCII, a column named like a number. */
const CSV = [
  'id,name,"note, quoted",2024',
  '1,Ann,"INV-1 and INV-2, URGENT",x',
  '2,"multi\nline ""q""",plain,',
  '',
  '3,bad,row,x,extra',
  '4,Zoë',
  '5,Bob,"urgent: INV-9",=1+1',
].join('\n');

/** What the engine stores for rows `(from, to]` without the thread's packing. */
async function enginePacked(path: string, from: number, to: number, rules: RuleSpec[] | undefined, options: TableReadOptions = {}): Promise<PackedRows> {
  const { pages, failures } = await readRows(csvRows(path), from, to, options);
  const analyzer = rules && perPage(rulesAnalyzer(rules));
  const fields = analyzer && pages.length > 0 ? await analyzer.analyze(pages, { signal: new AbortController().signal, documentId: 'd' }) : {};
  return packChunk({ pages, failures: [...failures].sort((a, b) => a.page - b.page), fields });
}

/** The same pages (text included), fields and failures read back, and the same small parts; the packed body holds no row's text. */
function assertSameCheckpoint(packed: PackedRows, engine: PackedRows, what: string): void {
  assert.deepEqual(unpackChunk(packed), unpackChunk(engine), what);
  const { body: _packedBody, ...packedSmall } = packed;
  const { body: _engineBody, ...engineSmall } = engine;
  assert.deepEqual(packedSmall, engineSmall, what);
  const texts = unpackChunk(engine).pages.map((page) => page.text);
  for (const text of texts) assert.ok(!packed.body.includes(JSON.stringify(text)), `${what}: no row text stored (${text})`);
  if (texts.length > 0) assert.ok(packed.body.length < engine.body.length, `${what}: the packed body is smaller`);
}

test('packed rows are the checkpoint the engine makes of the same rows, with rules, without, past the end', async () => {
  const path = join(dir, 'rows.csv');
  await writeFile(path, CSV);
  for (const [from, to] of [[0, 5], [1, 3], [3, 4], [0, 8], [6, 9]] as const) {
    for (const rules of [RULES, undefined]) {
      const packed = await packRows(csvRows(path), from, to, {}, rules ?? []);
      assertSameCheckpoint(packed, await enginePacked(path, from, to, rules), `rows ${from}–${to} ${rules ? 'with' : 'without'} rules`);
    }
  }
  // Fields on the rows that have them, the failed rows failed: read back as the engine reads any checkpoint.
  const output = unpackChunk(await packRows(csvRows(path), 0, 5, {}, RULES));
  assert.deepEqual(output.fields.invoice?.map((match) => [match.page, match.value]), [[1, '1'], [1, '2'], [5, '9']]);
  assert.deepEqual(output.fields.flag?.map((match) => match.page), [1, 5]);
  assert.deepEqual(output.failures.map((failure) => failure.page), [3]);
  assert.equal(output.pages.find((page) => page.page === 2)?.cells?.name, 'multi\nline "q"');
});

test('sheet.extractPacked: the columns kept, the rules run on them only', async () => {
  const path = join(dir, 'columns.csv');
  await writeFile(path, CSV);
  const input = { path, mediaType: CSV_MEDIA_TYPE, from: 0, to: 5, columns: ['note, quoted', 'id'], rules: asJson(RULES) };
  const packed = fromJson<PackedRows>(await tasks['sheet.extractPacked']!(asJson(input)));
  assertSameCheckpoint(packed, await enginePacked(path, 0, 5, RULES, { columns: ['note, quoted', 'id'] }), 'columns kept');
  assert.equal(unpackChunk(packed).pages[0]?.text, 'note, quoted: INV-1 and INV-2, URGENT\nid: 1', 'the text of the kept columns, in the order asked');
  assert.deepEqual(unpackChunk(packed).fields.name, [], 'the name column was not kept');
});
