// A table's rows through the model: `ream rows --llm-*` asks about each row alone, many at once,
// writes the answers as columns, gives a row whose answer fails its own error, and a new run
// of the same table is answered from the response cache. Also the `llm` option's refusals.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCsv } from '../cli/rows-helpers.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { startFakeOpenAi, userText, type FakeOpenAi } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';

const SECRET = 'sk-rows-SECRET-4242';
const ROWS = 30;
/** The row whose answers never validate: it must fail alone. */
const BAD_ROW = 13;
const schema = { type: 'object', properties: { grape: { type: 'string' }, score: { type: 'number' } }, required: ['grape', 'score'] };
const grapeOf = (i: number): string => ['Merlot', 'Syrah', 'Riesling'][i % 3] ?? 'Merlot';

let server: FakeOpenAi;
let dir: string;
let inFlight = 0;
let peakInFlight = 0;

/** A model that reads "grape G, scored N" from the row it is shown; the bad row gets a non-answer. */
async function answer(text: string): Promise<{ content: string; promptTokens: number; completionTokens: number }> {
  inFlight++;
  peakInFlight = Math.max(peakInFlight, inFlight);
  await sleep(40);
  inFlight--;
  const found = /grape (\w+), scored (\d+)/.exec(text);
  if (!found || text.includes(`wine ${BAD_ROW} `)) return { content: '{"values": "not an object"}', promptTokens: 7, completionTokens: 3 };
  const [, grape = '', score = '0'] = found;
  return {
    content: JSON.stringify({ values: { grape, score: Number(score) }, sources: { grape: { pages: [1], quote: `grape ${grape}` } } }),
    promptTokens: 7,
    completionTokens: 3,
  };
}

before(async () => {
  server = await startFakeOpenAi((request) => answer(userText(request)));
  dir = await mkdtemp(join(tmpdir(), 'ream-llm-rows-'));
  const lines = ['name,review'];
  for (let i = 1; i <= ROWS; i++) lines.push(`wine ${i} ,"A fine wine: grape ${grapeOf(i)}, scored ${80 + i}"`);
  await writeFile(join(dir, 'wines.csv'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'fields.json'), JSON.stringify(schema));
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ REAM_LLM_BASE_URL: server.baseURL, REAM_LLM_API_KEY: SECRET, REAM_LLM_MODEL: 'fake-rows' });
const rowsArgs = (...more: string[]): string[] => [
  'rows', join(dir, 'wines.csv'), '--llm-schema', join(dir, 'fields.json'), '--llm-prompt', 'Read the grape and the score',
  '--out', join(dir, 'out.csv'), '--data-dir', join(dir, 'data'), '--progress', 'none', '--rows-per-task', '10', ...more,
];

test('ream rows --llm-schema: each row asked alone, many at once; answers as columns; one bad row fails alone; a new run is answered from the cache', async () => {
  server.requests.length = 0;
  const first = await runReam(rowsArgs(), { env: env() });
  assert.equal(first.code, 1, `one row failed, so exit 1: ${first.stdout}${first.stderr}`);
  assert.match(first.stdout, new RegExp(`done: ${ROWS - 1} rows succeeded, 1 failed, of ${ROWS}`));
  assert.match(first.stdout, /model: \d+ tokens \(\d+ prompt \+ \d+ completion\) in \d+ call\(s\), 0 from the cache/);
  assert.ok(!first.stdout.includes(SECRET) && !first.stderr.includes(SECRET), 'the API key is never printed');

  // One call per row, each carrying that row alone; the bad row's answer was repaired and retried.
  const rowsAsked = server.requests.map((request) => /wine (\d+) /.exec(userText(request))?.[1]);
  assert.ok(server.requests.every((request) => (userText(request).match(/wine \d+ /g) ?? []).length === 1), 'every call is about one row');
  for (let i = 1; i <= ROWS; i++) {
    const calls = rowsAsked.filter((row) => row === String(i)).length;
    if (i === BAD_ROW) assert.ok(calls > 1, 'the invalid answer was repaired before the row failed');
    else assert.equal(calls, 1, `row ${i}: one call`);
  }
  assert.ok(peakInFlight >= 4, `rows are asked about concurrently (peak ${peakInFlight} calls at once)`);

  const [header, ...rows] = await readCsv(join(dir, 'out.csv'));
  assert.deepEqual(header, ['name', 'review', 'grape', 'score', 'error_code', 'error_message']);
  assert.equal(rows.length, ROWS);
  rows.forEach((cells, index) => {
    const i = index + 1;
    if (i === BAD_ROW) {
      assert.equal(cells[0], `wine ${i} `, 'the failed row keeps its cells');
      assert.deepEqual([cells[2], cells[3], cells[4]], ['', '', 'llm_invalid_output']);
    } else {
      assert.deepEqual(cells.slice(2), [grapeOf(i), String(80 + i), '', ''], `row ${i}`);
    }
  });

  // A new job over the same table (--no-resume): every answered row comes from the cache; only
  // the row that never got a valid answer is asked again.
  server.requests.length = 0;
  const again = await runReam(rowsArgs('--no-resume'), { env: env() });
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stdout, new RegExp(`, ${ROWS - 1} from the cache`));
  assert.ok(server.requests.length > 0 && server.requests.every((request) => userText(request).includes(`wine ${BAD_ROW} `)), 'only the failed row is asked again');
});

test('ream rows refuses the document-level model flags, and the rows pipeline refuses llm options it cannot use', async () => {
  const reduce = await runReam(rowsArgs('--llm-reduce-prompt', 'combine'), { env: env() });
  assert.equal(reduce.code, 2, reduce.stderr);
  assert.match(reduce.stderr, /--llm-reduce-prompt does not apply to ream rows/);

  const ream = await createReam({ dataDir: join(dir, 'lib'), threads: 1, llm: false });
  try {
    const csv = join(dir, 'wines.csv');
    await rejectsWithCode(ream.submit({ pipeline: 'rows', options: { llm: { schema } }, files: [csv] }), 'validation_failed', /needs a model provider/);
    await rejectsWithCode(ream.submit({ pipeline: 'rows', options: { llm: 'extract' }, files: [csv] }), 'validation_failed', /must be an object/);
  } finally {
    await ream.close();
  }
  const withModel = await createReam({ dataDir: join(dir, 'lib2'), threads: 1, llm: { baseURL: server.baseURL, apiKey: SECRET, model: 'fake-rows' } });
  try {
    const csv = join(dir, 'wines.csv');
    await rejectsWithCode(withModel.submit({ pipeline: 'rows', options: { llm: { schema, overlapPages: 1 } }, files: [csv] }), 'validation_failed', /unknown option "overlapPages"/);
    await rejectsWithCode(withModel.submit({ pipeline: 'rows', options: { llm: { schema, reducePrompt: 'x' } }, files: [csv] }), 'validation_failed', /does not apply to rows/);
  } finally {
    await withModel.close();
  }
});

test('ream rows: when no row gets an answer, the table still has the schema\'s columns', async () => {
  await writeFile(join(dir, 'three.csv'), 'name,review\nwine 1 ,grape Syrah\nwine 2 ,grape Merlot\nwine 3 ,grape Riesling\n');
  const silent = await startFakeOpenAi(() => ({ content: '{"values": "never an object"}', promptTokens: 5, completionTokens: 2 }));
  try {
    const args = ['rows', join(dir, 'three.csv'), '--llm-schema', join(dir, 'fields.json'), '--out', join(dir, 'none.csv'), '--data-dir', join(dir, 'silent'), '--progress', 'none'];
    const run = await runReam(args, { env: { ...env(), REAM_LLM_BASE_URL: silent.baseURL } });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const [header, ...rows] = await readCsv(join(dir, 'none.csv'));
    assert.deepEqual(header, ['name', 'review', 'grape', 'score', 'error_code', 'error_message']);
    assert.deepEqual(rows.map((cells) => [cells.length, cells[4]]), Array.from({ length: 3 }, () => [6, 'llm_invalid_output']));
  } finally {
    await silent.close();
  }
});

test('ream rows: when the provider is down, each failed row keeps its cells and says why; --retry-failed answers them', async () => {
  await writeFile(join(dir, 'down.csv'), 'name,review\nwine 1 ,"grape Syrah, scored 90"\nwine 2 ,"grape Merlot, scored 85"\n');
  let up = false;
  const flaky = await startFakeOpenAi((request) => (up ? answer(userText(request)) : { status: 503, message: 'down for maintenance', retryAfter: '0' }));
  try {
    const args = ['rows', join(dir, 'down.csv'), '--llm-schema', join(dir, 'fields.json'), '--out', join(dir, 'down-out.csv'), '--data-dir', join(dir, 'down'), '--progress', 'none'];
    const run = await runReam(args, { env: { ...env(), REAM_LLM_BASE_URL: flaky.baseURL } });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const [header, ...rows] = await readCsv(join(dir, 'down-out.csv'));
    assert.deepEqual(header, ['name', 'review', 'grape', 'score', 'error_code', 'error_message']);
    assert.deepEqual(rows.map((cells) => cells.slice(0, 5)), [['wine 1 ', 'grape Syrah, scored 90', '', '', 'llm_unavailable'], ['wine 2 ', 'grape Merlot, scored 85', '', '', 'llm_unavailable']]);
    assert.match(rows[0]?.[5] ?? '', /503 down for maintenance \(after 3 attempts\)/);
    up = true;
    const retried = await runReam([...args, '--retry-failed'], { env: { ...env(), REAM_LLM_BASE_URL: flaky.baseURL } });
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    const [, ...again] = await readCsv(join(dir, 'down-out.csv'));
    assert.deepEqual(again, [['wine 1 ', 'grape Syrah, scored 90', 'Syrah', '90', '', ''], ['wine 2 ', 'grape Merlot, scored 85', 'Merlot', '85', '', '']]);
  } finally {
    await flaky.close();
  }
});

test('ream rows --llm-max-tokens: the rows past the budget fail alone with budget_exceeded, and the summary says why the job stopped', async () => {
  const args = ['rows', join(dir, 'wines.csv'), '--llm-schema', join(dir, 'fields.json'), '--llm-max-tokens', '20',
    '--out', join(dir, 'wines-out.csv'), '--data-dir', join(dir, 'capped'), '--progress', 'none'];
  const run = await runReam(args, { env: env() });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /^done: 0 rows succeeded, 30 failed, of 30/m);
  assert.match(run.stdout, /^stopped: the job's token budget \(maxTokens 20\) stopped its model calls with 0 tokens used: .* \[budget_exceeded\]$/m);
  const [, ...rows] = await readCsv(join(dir, 'wines-out.csv'));
  assert.deepEqual(new Set(rows.map((cells) => cells[4])), new Set(['budget_exceeded']), 'each row says why it has no answer');
});
