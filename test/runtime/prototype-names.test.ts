// Names a tenant chooses (rule names, a model schema's properties, a table's column names) that
// are also Object.prototype's members — `constructor` is a column of Formula 1 data — are names
// like any other: a row without a match has no value for them, and reading, sorting, filtering
// and writing the rows neither throws nor finds a member of Object.prototype.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AnalyzeContext, Analyzer } from '../../src/analyzers/port.ts';
import { perPage } from '../../src/analyzers/per-page.ts';
import { extractMode } from '../../src/analyzers/llm/modes/extract.ts';
import { tableLayout } from '../../src/cli/rows-table.ts';
import { documentTable } from '../../src/exports/result-table.ts';
import { orderRows, rowOrder } from '../../src/exports/row-view.ts';
import type { CellValue } from '../../src/formats/types.ts';
import { fromJson, type JsonObject, type JsonValue } from '../../src/json.ts';
import { ownValue } from '../../src/own-keys.ts';
import { replacePages } from '../../src/pipeline/chunk-redo.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import type { DocumentPageResult, Ream } from '../../src/runtime/ream.ts';

let dir: string;
let ream: Ream;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-prototype-names-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

const RULES: JsonValue = [
  { name: 'constructor', pattern: 'team: (\\S+)' },
  { name: 'toString', keywords: ['Ferrari'] },
];

async function f1Rows(): Promise<{ output: DocumentOutput; pages: DocumentPageResult[]; jobId: string; documentId: string }> {
  const path = join(dir, 'f1.csv');
  await writeFile(path, 'driver,team,valueOf\nHamilton,Ferrari,1\nNobody,,\n');
  const job = await ream.submit({ pipeline: 'rows', options: { rules: RULES }, files: [path] });
  assert.equal((await ream.wait(job.id)).status, 'succeeded');
  const [doc] = await ream.jobDocuments(job.id);
  const documentId = doc?.documentId ?? '';
  const result = await ream.documentResult(job.id, documentId);
  const pages: DocumentPageResult[] = [];
  for await (const page of ream.documentPages(job.id, documentId)) pages.push(page);
  return { output: fromJson<DocumentOutput>(result?.output ?? null), pages, jobId: job.id, documentId };
}

test('fields named constructor and toString: read back, laid out for downloads and `ream rows`, sorted and filtered', async () => {
  const { output, pages, jobId, documentId } = await f1Rows();
  const own = (page: DocumentPageResult, name: string): string[] | undefined => (Object.hasOwn(page.fields, name) ? page.fields[name]?.map((match) => match.value) : undefined);
  assert.deepEqual(pages.map((page) => own(page, 'constructor')), [['Ferrari'], undefined]);
  assert.equal(Object.hasOwn(pages[1]?.fields ?? {}, 'toString'), false, 'a row without a match has no key');

  const rows: CellValue[][] = [];
  const table = documentTable(output, ream.documentPages(jobId, documentId));
  for await (const row of table.rows) rows.push(row);
  assert.deepEqual(table.header, ['row', 'driver', 'team', 'valueOf', 'constructor', 'toString', 'error_code', 'error_message']);
  assert.deepEqual(rows, [
    [1, 'Hamilton', 'Ferrari', '1', 'Ferrari', 'Ferrari', null, null],
    [2, 'Nobody', '', '', null, null, null, null],
  ]);
  const layout = tableLayout(['driver', 'team', 'valueOf', 'hasOwnProperty'], ['constructor', 'toString']);
  assert.deepEqual(layout.rows(pages, { rows: 0, failedRows: 0 }), [
    ['Hamilton', 'Ferrari', '1', null, 'Ferrari', 'Ferrari', null, null],
    ['Nobody', '', '', null, null, null, null, null],
  ], 'a column the rows lack (hasOwnProperty) is empty, not Object.prototype.hasOwnProperty');

  const view = async (query: Parameters<typeof rowOrder>[0]): Promise<number[]> => Array.from(await orderRows(pages, rowOrder(query) ?? { descending: false }));
  assert.deepEqual(await view({ sort: 'fields.constructor', order: 'desc' }), [1, 2]);
  assert.deepEqual(await view({ sort: 'cells.valueOf', order: 'desc' }), [1, 2]);
  assert.deepEqual(await view({ filter: 'object', filterBy: 'fields.__proto__' }), []);
  assert.deepEqual(await view({ filter: 'function', filterBy: 'cells.toString' }), [], 'no column toString: no row matches');
  assert.deepEqual(await view({ filter: 'ferrari', filterBy: 'fields.toString' }), [1]);
});

const context = { signal: new AbortController().signal } as AnalyzeContext;

test('an analyzer asked page by page, a retried row and a model schema keep such names as keys', async () => {
  const inner: Analyzer = { name: 'x', config: null, analyze: ([page]) => Promise.resolve({ constructor: [{ value: `v${page?.page}`, page: page?.page ?? 0 }] }) };
  const pages = [1, 2].map((page) => ({ page, text: '' }));
  assert.deepEqual(await perPage(inner).analyze(pages, context), { constructor: [{ value: 'v1', page: 1 }, { value: 'v2', page: 2 }] });

  const kept = { pages: [], failures: [{ page: 2, code: 'llm_refused' as const, message: 'no' }], fields: {} };
  const fresh = { pages: [], failures: [], fields: { constructor: [{ value: 'again', page: 2 }] } };
  assert.deepEqual(replacePages(kept, fresh, new Set([2])).fields, { constructor: [{ value: 'again', page: 2 }] });

  // JSON text: in an object literal `__proto__` would set the prototype, as in the code this tests.
  const schema = JSON.parse('{"type":"object","properties":{"constructor":{"type":"string"},"__proto__":{"type":"string"}}}') as JsonObject;
  const mode = extractMode({ mode: 'extract', schema });
  const data = mode.combine([
    { firstPage: 1, lastPage: 1, data: JSON.parse('{"values":{"constructor":"Ferrari","__proto__":"p"},"sources":{"constructor":{"pages":[1],"quote":"Ferrari"}}}') as never },
  ]);
  assert.equal(JSON.stringify(data), '{"values":{"constructor":"Ferrari","__proto__":"p"},"sources":{"constructor":{"pages":[1],"quote":"Ferrari"}}}');
  const fields = mode.fields(data, 1);
  assert.deepEqual(Object.keys(fields), ['constructor', '__proto__']);
  assert.equal(ownValue(fields, 'constructor')?.[0]?.value, 'Ferrari');
});
