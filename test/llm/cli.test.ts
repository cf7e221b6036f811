import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { repoRoot } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';
import { pagesIn, startFakeOpenAi, type FakeOpenAi } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';

const SECRET = 'sk-cli-SECRET-3131';
const schema = { type: 'object', properties: { party: { type: 'string' }, total: { type: 'number' } }, required: ['party', 'total'] };

/** A model that finds "Party: X" and "Total: N" on the pages it is shown. */
function answerFor(pages: number[], texts: Map<number, string>): string {
  const values: Record<string, unknown> = {};
  const sources: Record<string, unknown> = {};
  for (const page of pages) {
    const text = texts.get(page) ?? '';
    const party = /Party: (\w+)/.exec(text)?.[1];
    const total = /Total: (\d+)/.exec(text)?.[1];
    if (party) [values.party, sources.party] = [party, { pages: [page], quote: `Party: ${party}` }];
    if (total) [values.total, sources.total] = [Number(total), { pages: [page], quote: `Total: ${total}` }];
  }
  return JSON.stringify({ values, sources });
}

let server: FakeOpenAi;
let dir: string;
const texts = new Map([[1, 'Party: Acme'], [2, 'Total: 120'], [3, 'Nothing'], [4, 'Nothing'], [5, 'Nothing'], [6, 'Nothing']]);
before(async () => {
  server = await startFakeOpenAi((request) => ({ content: answerFor(pagesIn(request), texts), promptTokens: 10, completionTokens: 2 }));
  dir = await mkdtemp(join(tmpdir(), 'ream-llm-cli-'));
  await mkdir(join(dir, 'contracts'));
  await writeFile(join(dir, 'contracts', 'a.pdf'), await makePdf({ pages: ['Party: Acme', 'Total: 120'] }));
  await writeFile(join(dir, 'contracts', 'b.pdf'), await makePdf({ pages: ['Party: Initech\nTotal: 7'] }));
  await writeFile(join(dir, 'fields.json'), JSON.stringify(schema));
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Chunks stored as succeeded in a data dir's database (0 while it does not exist yet). */
async function checkpointed(path: string): Promise<number> {
  try {
    await access(path);
  } catch {
    return 0;
  }
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("select count(*) as n from chunk_results where status = 'succeeded'").get() as { n: number }).n;
  } catch {
    return 0; // the table is not made yet
  } finally {
    db.close();
  }
}

const llmEnv = (): Record<string, string> => ({ REAM_LLM_BASE_URL: server.baseURL, REAM_LLM_API_KEY: SECRET, REAM_LLM_MODEL: 'fake-cli' });

test('ream run --llm-schema --llm-prompt: fields with pages and quotes per file, tokens in the summary; a re-run makes no call', async () => {
  // Page text differs per document here: answer from the request itself.
  server.script((request) => {
    const text = request.body.messages.at(-1)?.content ?? '';
    const local = new Map(pagesIn(request).map((page) => [page, text.split(`<<<page ${page}>>>`)[1]?.split('<<<page')[0] ?? '']));
    return { content: answerFor(pagesIn(request), local), promptTokens: 10, completionTokens: 2 };
  });
  server.requests.length = 0;
  const args = ['run', join(dir, 'contracts'), '--llm-schema', join(dir, 'fields.json'), '--llm-prompt', 'Extract the party and the total',
    '-o', join(dir, 'out.jsonl'), '--data-dir', join(dir, 'data'), '--progress', 'none', '--threads', '1'];
  const prices = JSON.stringify({ 'fake-cli': { prompt: 1000, completion: 5000 } });
  const run = await runReam(args, { env: { ...llmEnv(), REAM_LLM_PRICES: prices } });
  assert.equal(run.code, 0, run.stderr);
  const lines = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { path: string; fields: Record<string, unknown>; analysis?: { llm?: unknown } });
  const a = lines.find((line) => line.path.endsWith('a.pdf'));
  assert.deepEqual(a?.fields, {
    party: [{ value: 'Acme', page: 1, pages: [1], quote: 'Party: Acme' }],
    total: [{ value: '120', page: 2, pages: [2], quote: 'Total: 120' }],
  });
  assert.deepEqual((a?.analysis?.llm as { values: unknown }).values, { party: 'Acme', total: 120 });
  assert.equal(server.requests.length, 2);
  // The price table's cost: (20 × 1000 + 4 × 5000) ÷ 1,000,000 USD.
  assert.match(run.stdout, /model: 24 tokens \(20 prompt \+ 4 completion\) in 2 call\(s\), 0 from the cache, \$0\.0400/);
  assert.doesNotMatch(run.stdout + run.stderr + (await readFile(join(dir, 'out.jsonl'), 'utf8')), /SECRET/);

  const again = await runReam([...args.slice(0, -6), '-o', join(dir, 'out2.jsonl'), '--data-dir', join(dir, 'data'), '--progress', 'none'], { env: llmEnv() });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(server.requests.length, 2, 'a new run over the same files is answered from the cache');
  assert.match(again.stdout, /0 call\(s\), 2 from the cache$/m);
  // The same results file resumed with another model: its lines are not that model's answers.
  const otherModel = await runReam(args, { env: { ...llmEnv(), REAM_LLM_MODEL: 'another-model' } });
  assert.equal(otherModel.code, 2, otherModel.stdout);
  assert.match(otherModel.stderr, /holds results made with other settings \(model differ\)/);
  const badPrices = await runReam([...args.slice(0, -6), '-o', join(dir, 'out3.jsonl'), '--data-dir', join(dir, 'data')], { env: { ...llmEnv(), REAM_LLM_PRICES: '{"fake-cli": {"prompt": "cheap"}}' } });
  assert.equal(badPrices.code, 2);
  assert.match(badPrices.stderr, /REAM_LLM_PRICES gives model "fake-cli" no valid prompt and completion prices.*\[validation_failed\]/);
});

test('ream run --llm-max-tokens: a job its budget stops keeps every page\'s text, and the summary says why it stopped', async () => {
  server.requests.length = 0;
  const out = join(dir, 'capped.jsonl');
  const args = ['run', join(dir, 'contracts'), '--llm-schema', join(dir, 'fields.json'), '--llm-max-tokens', '50', '-o', out,
    '--data-dir', join(dir, 'capped-data'), '--progress', 'none', '--threads', '1'];
  const run = await runReam(args, { env: llmEnv() });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.equal(server.requests.length, 0, 'no call fits the budget');
  assert.match(run.stdout, /^done: 0 succeeded, 2 partially succeeded, 0 failed of 2 file\(s\)$/m);
  assert.match(run.stdout, /^stopped: the job's token budget \(maxTokens 50\) stopped its model calls with 0 tokens used: .* \[budget_exceeded\]$/m);
  const lines = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { status: string; pages: Array<{ text: string }> });
  assert.deepEqual(lines.map((line) => line.status), ['partially_succeeded', 'partially_succeeded']);
  assert.ok(lines.every((line) => line.pages.every((page) => page.text.trim() !== '')), 'the pages keep their text');
  // --retry-failed would ask the model nothing, and resuming with another budget is refused: the
  // summary says what does analyse the rest.
  assert.doesNotMatch(run.stdout, /--retry-failed to the same command/);
  assert.match(run.stdout, /^its token budget is spent .*a larger --llm-max-tokens and --no-resume/m);
  server.requests.length = 0;
  const larger = await runReam([...args.filter((arg) => arg !== '50' && arg !== '--llm-max-tokens'), '--llm-max-tokens', '100000', '--no-resume'], { env: llmEnv() });
  assert.equal(larger.code, 0, larger.stdout + larger.stderr);
  assert.ok(server.requests.length > 0, 'the rest is analysed');
  assert.match(larger.stdout, /^done: 2 succeeded, 0 failed of 2 file\(s\)$/m);
});

test('ream run with an API key no HTTP header can carry (the README\'s sk-… pasted) stops at once with exit 2, not after retries', async () => {
  server.requests.length = 0;
  const args = ['run', join(dir, 'contracts'), '--llm-schema', join(dir, 'fields.json'), '-o', join(dir, 'bad-key.jsonl'),
    '--data-dir', join(dir, 'bad-key-data'), '--progress', 'none', '--threads', '1'];
  const run = await runReam(args, { env: { ...llmEnv(), REAM_LLM_API_KEY: 'sk-…' } });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /REAM_LLM_API_KEY.*U\+2026.*\[validation_failed\]/);
  assert.equal(server.requests.length, 0);
});

test('ream run with REAM_LLM_CONTEXT_TOKENS smaller than the prompt and schema stops at once with exit 2, naming the numbers', async () => {
  server.requests.length = 0;
  const args = ['run', join(dir, 'contracts'), '--llm-schema', join(dir, 'fields.json'), '--llm-prompt', 'Extract the party and the total', '-o', join(dir, 'small-context.jsonl'),
    '--data-dir', join(dir, 'small-context-data'), '--progress', 'none', '--threads', '1'];
  const run = await runReam(args, { env: { ...llmEnv(), REAM_LLM_CONTEXT_TOKENS: '100' } });
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /context \(contextTokens, REAM_LLM_CONTEXT_TOKENS\) is 100 tokens, but the fixed prompt \(instructions and schema\) takes about (\d+): at least \d+ are needed.*\[validation_failed\]/);
  assert.equal(server.requests.length, 0);
  // Room for the prompt and some text: the documents are read, split as needed.
  const roomy = await runReam([...args.slice(0, -8), '-o', join(dir, 'roomy.jsonl'), '--data-dir', join(dir, 'roomy-data'), '--progress', 'none'], { env: { ...llmEnv(), REAM_LLM_CONTEXT_TOKENS: '1000' } });
  assert.equal(roomy.code, 0, roomy.stdout + roomy.stderr);
});

test('kill -9 mid-job: the re-run asks the model only about the chunks that had no answer', async () => {
  const pdf = join(dir, 'six.pdf');
  await writeFile(pdf, await makePdf({ pages: [...texts.values()] }));
  server.requests.length = 0;
  // Pages 1–3 are answered at once; 4–6 never (the process dies waiting).
  server.script((request) => (Math.min(...pagesIn(request)) <= 3 ? { content: answerFor(pagesIn(request), texts), promptTokens: 10, completionTokens: 2 } : { hang: true }));
  const args = ['run', pdf, '--llm-schema', join(dir, 'fields.json'), '--llm-overlap', '0', '--chunk-pages', '1', '-c', '8',
    '-o', join(dir, 'six.jsonl'), '--data-dir', join(dir, 'six-data'), '--progress', 'none', '--threads', '1'];
  const child = spawn(process.execPath, [join(repoRoot, 'bin/ream.js'), ...args], { env: { ...process.env, REAM_FROM_SOURCE: '1', ...llmEnv() }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  while (server.requests.length < 6) await sleep(50);
  // Killed once the three answers are checkpointed (read from the run's database, as it runs).
  while ((await checkpointed(join(dir, 'six-data', 'ream.db'))) < 3) await sleep(50);
  child.kill('SIGKILL');
  await exited;
  assert.deepEqual(server.requests.map((r) => pagesIn(r)[0]).sort(), [1, 2, 3, 4, 5, 6]);

  server.requests.length = 0;
  server.script((request) => ({ content: answerFor(pagesIn(request), texts), promptTokens: 10, completionTokens: 2 }));
  const rerun = await runReam(args, { env: llmEnv() });
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(server.requests.map((r) => pagesIn(r)[0]).sort(), [4, 5, 6], 'only the unanswered chunks are asked again');
  const [line] = (await readFile(join(dir, 'six.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { fields: Record<string, Array<{ value: string }>> });
  assert.equal(line?.fields.party?.[0]?.value, 'Acme');
  assert.equal(line?.fields.total?.[0]?.value, '120');
});
