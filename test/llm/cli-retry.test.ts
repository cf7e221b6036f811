import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makePdf } from '../support/make-pdf.ts';
import { startFakeOpenAi, userText, type FakeOpenAi } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';

const schema = { type: 'object', properties: { party: { type: 'string' } }, required: ['party'] };
const answer = (text: string): string => JSON.stringify({ values: { party: /Party: (\w+)/.exec(text)?.[1] ?? 'none' }, sources: {} });

let server: FakeOpenAi;
let dir: string;
before(async () => {
  server = await startFakeOpenAi((request) => ({ content: answer(userText(request)) }));
  dir = await mkdtemp(join(tmpdir(), 'ream-run-retry-'));
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.pdf'), await makePdf({ pages: ['Party: Acme'] }));
  await writeFile(join(dir, 'in', 'b.pdf'), await makePdf({ pages: ['Party: Initech'] }));
  // A link to a file that is not there yet: a failed line with no document.
  await symlink(join(dir, 'later.pdf'), join(dir, 'in', 'c.pdf'));
  await writeFile(join(dir, 'fields.json'), JSON.stringify(schema));
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ REAM_LLM_BASE_URL: server.baseURL, REAM_LLM_API_KEY: 'sk-test', REAM_LLM_MODEL: 'fake-retry' });
type Line = { path: string; status: string; fields: Record<string, Array<{ value: string }>> };
const linesOf = async (path: string): Promise<Line[]> => (await readFile(path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Line);

test('ream run --retry-failed runs again only the files whose lines failed, and replaces those lines', async () => {
  const out = join(dir, 'out.jsonl');
  const args = ['run', 'in', '--llm-schema', 'fields.json', '-o', out, '--data-dir', 'data', '--progress', 'none', '--threads', '1'];
  // Initech's answers are no JSON, repairs included: its page fails with llm_invalid_output.
  server.script((request) => ({ content: userText(request).includes('Initech') ? 'no json here' : answer(userText(request)) }));
  const first = await runReam(args, { env: env(), cwd: dir });
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stdout, /done: 1 succeeded, 1 partially succeeded, 1 failed of 3 file\(s\)/);
  assert.match(first.stdout, /add --retry-failed to the same command to run the failed files again/);
  const failed = new Map((await linesOf(out)).map((line) => [line.path, line.status]));
  assert.deepEqual(Object.fromEntries(failed), { 'in/a.pdf': 'succeeded', 'in/b.pdf': 'partially_succeeded', 'in/c.pdf': 'failed' });

  // A resume without the flag keeps every line as it is and asks the model nothing.
  server.requests.length = 0;
  const resumed = await runReam(args, { env: env(), cwd: dir });
  assert.equal(resumed.code, 1);
  assert.match(resumed.stdout, /3 already done \(resumed; 2 of them did not succeed\)/);
  assert.equal(server.requests.length, 0);

  // The model answers now, and the link's file is there: the flag runs b and c again, not a.
  server.script((request) => ({ content: answer(userText(request)) }));
  await writeFile(join(dir, 'later.pdf'), await makePdf({ pages: ['Party: Globex'] }));
  server.requests.length = 0;
  const retried = await runReam([...args, '--retry-failed'], { env: env(), cwd: dir });
  assert.equal(retried.code, 0, retried.stdout + retried.stderr);
  assert.match(retried.stdout, /done: 2 succeeded, 0 failed, 1 already done \(resumed\) of 3 file\(s\)/);
  assert.doesNotMatch(retried.stdout, /--retry-failed/);
  const asked = server.requests.map((request) => /Party: (\w+)/.exec(userText(request))?.[1]).sort();
  assert.deepEqual(asked, ['Globex', 'Initech'], 'Acme, done before, is not asked again');
  const lines = await linesOf(out);
  assert.equal(lines.length, 3, 'one line per file: the failed lines were replaced, not added to');
  assert.deepEqual(Object.fromEntries(lines.map((line) => [line.path, [line.status, line.fields.party?.[0]?.value]])), {
    'in/a.pdf': ['succeeded', 'Acme'], 'in/b.pdf': ['succeeded', 'Initech'], 'in/c.pdf': ['succeeded', 'Globex'],
  });

  // With nothing left to retry, the flag is a plain resume.
  server.requests.length = 0;
  const nothing = await runReam([...args, '--retry-failed'], { env: env(), cwd: dir });
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.match(nothing.stdout, /3 already done \(resumed\) of 3 file\(s\)/);
  assert.equal(server.requests.length, 0);
});

test('--retry-failed with --no-resume or --out - is a usage error', async () => {
  for (const extra of [['--no-resume', '-o', 'x.jsonl'], ['-o', '-']]) {
    const run = await runReam(['run', 'in/a.pdf', '--retry-failed', '--data-dir', 'data2', '--progress', 'none', ...extra], { cwd: dir });
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stderr, /--retry-failed reruns what an earlier run wrote to --out: it cannot go with (--no-resume|--out -).*\[validation_failed\]/);
  }
});
