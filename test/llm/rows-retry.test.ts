// Row-level retry: a job whose rows failed alone inside batches that succeeded is retried, and
// exactly the failed rows are asked again (the model server counts the calls per row); the
// retried rows' new answers then stand in the result, in input order. Both modes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { startServer } from '../../src/server/app.ts';
import { readCsv } from '../cli/rows-helpers.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';
import { startFakeOpenAi, userText, type FakeOpenAi, type Reply } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';

const ROWS = 25;
/** Rows the model cannot answer on the first run: two in one batch, one in another. */
const FLAKY_ROWS = new Set([4, 7, 18]);
const schema = { type: 'object', properties: { grape: { type: 'string' } }, required: ['grape'] };

let server: FakeOpenAi;
let dir: string;
let csv: string;
/** While true, the flaky rows get a non-answer (which fails the row for good, not the batch). */
let flaky = true;

const rowOf = (text: string): number => Number(/wine (\d+) /.exec(text)?.[1] ?? 0);

function answer(text: string): Reply {
  const row = rowOf(text);
  // A different answer each run: the retried rows' new values must replace the old ones.
  if (flaky && FLAKY_ROWS.has(row)) return { content: '{"values": "not an object"}' };
  const values = { grape: `grape-${row}${flaky ? '' : '-retried'}` };
  return { content: JSON.stringify({ values, sources: { grape: { pages: [1], quote: `A wine numbered ${row}` } } }) };
}

before(async () => {
  server = await startFakeOpenAi((request) => answer(userText(request)));
  dir = await mkdtemp(join(tmpdir(), 'ream-rows-retry-'));
  csv = join(dir, 'wines.csv');
  const lines = ['name,review'];
  for (let i = 1; i <= ROWS; i++) lines.push(`wine ${i} ,"A wine numbered ${i}"`);
  await writeFile(csv, `${lines.join('\n')}\n`);
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Model calls per row so far. */
function callsPerRow(): Map<number, number> {
  const calls = new Map<number, number>();
  for (const request of server.requests) {
    const row = rowOf(userText(request));
    calls.set(row, (calls.get(row) ?? 0) + 1);
  }
  return calls;
}

for (const mode of MODES) {
  void test(`${mode}: POST /v1/jobs/:id/retry re-asks exactly the rows that failed inside succeeded batches; their new values stand, in order`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    server.requests.length = 0;
    flaky = true;
    const llm = { baseURL: server.baseURL, apiKey: 'sk-rows-retry', model: `fake-retry-${mode}` };
    await withModeReam(mode, { llm }, async ({ ream }) => {
      const job = await ream.submit({ pipeline: 'rows', options: { chunkPages: 10, llm: { schema, prompt: 'The grape' } }, files: [csv] });
      const first = await ream.wait(job.id);
      assert.equal(first.status, 'partially_succeeded');
      const [before] = await outputs(ream.results(job.id));
      assert.deepEqual(before?.failedPages.map((failure) => failure.page), [...FLAKY_ROWS], JSON.stringify(before?.failedPages.slice(0, 2)));
      const firstCalls = callsPerRow();
      for (let row = 1; row <= ROWS; row++) assert.ok((firstCalls.get(row) ?? 0) >= 1, `row ${row} asked`);

      flaky = false;
      server.requests.length = 0;
      // Over HTTP, as a user of the service would.
      const http = await startServer({ ream, host: '127.0.0.1', port: 0 });
      try {
        const response = await fetch(`${http.url}/v1/jobs/${job.id}/retry`, { method: 'POST' });
        assert.equal(response.status, 202, await response.text());
      } finally {
        await http.close();
      }
      const retried = await ream.wait(job.id);
      assert.equal(retried.status, 'succeeded', 'every row answered now');
      assert.deepEqual([...callsPerRow().keys()].sort((a, b) => a - b), [...FLAKY_ROWS], 'only the failed rows were asked again');
      assert.ok([...callsPerRow().values()].every((calls) => calls === 1), 'each once');

      const [after] = await outputs(ream.results(job.id));
      assert.deepEqual(after?.failedPages, []);
      assert.equal(after?.pages.length, ROWS);
      assert.deepEqual(after?.pages.map((page) => page.page), Array.from({ length: ROWS }, (_, i) => i + 1), 'rows in input order');
      const grapes = after?.fields.grape?.map((match) => [match.page, match.value]);
      assert.deepEqual(grapes, Array.from({ length: ROWS }, (_, i) => [i + 1, FLAKY_ROWS.has(i + 1) ? `grape-${i + 1}-retried` : `grape-${i + 1}`]));
      await assert.rejects(ream.retry(job.id), { code: 'validation_failed' }, 'nothing left to retry');
    });
  });
}

void test('ream rows --retry-failed: the failed rows of the last run are asked again, the table is written with their new values in order', { timeout: 120_000 }, async () => {
  server.requests.length = 0;
  flaky = true;
  const env = { REAM_LLM_BASE_URL: server.baseURL, REAM_LLM_API_KEY: 'sk-rows-retry', REAM_LLM_MODEL: 'fake-retry-cli' };
  const out = join(dir, 'out.csv');
  const args = (...more: string[]): string[] => [
    'rows', csv, '--llm-prompt', 'The grape', '--llm-schema', join(dir, 'schema.json'), '--out', out,
    '--data-dir', join(dir, 'cli-data'), '--progress', 'none', '--rows-per-task', '10', ...more,
  ];
  await writeFile(join(dir, 'schema.json'), JSON.stringify(schema));
  const first = await runReam(args(), { env });
  assert.equal(first.code, 1, first.stdout + first.stderr);
  assert.match(first.stdout, new RegExp(`done: ${ROWS - FLAKY_ROWS.size} rows succeeded, ${FLAKY_ROWS.size} failed, of ${ROWS}`));

  flaky = false;
  server.requests.length = 0;
  const plain = await runReam(args(), { env });
  assert.equal(plain.code, 1, 'a plain re-run carries the ended run on: its failed rows stay failed');
  assert.equal(server.requests.length, 0, 'and asks nothing');

  const retried = await runReam(args('--retry-failed'), { env });
  assert.equal(retried.code, 0, retried.stdout + retried.stderr);
  assert.match(retried.stdout, new RegExp(`done: ${ROWS} rows succeeded, 0 failed, of ${ROWS}`));
  assert.deepEqual([...callsPerRow().keys()].sort((a, b) => a - b), [...FLAKY_ROWS], 'only the failed rows were asked again');
  const [header, ...rows] = await readCsv(out);
  assert.deepEqual(header, ['name', 'review', 'grape', 'error_code', 'error_message']);
  assert.deepEqual(rows.map((row) => row[2]), Array.from({ length: ROWS }, (_, i) => `grape-${i + 1}${FLAKY_ROWS.has(i + 1) ? '-retried' : ''}`));
  assert.ok(rows.every((row) => row[3] === ''), 'no error left');
});

async function outputs(iterable: AsyncIterable<DocumentOutput>): Promise<DocumentOutput[]> {
  const all: DocumentOutput[] = [];
  for await (const output of iterable) all.push(output);
  return all;
}
