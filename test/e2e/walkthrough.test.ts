// The README's walkthrough of the HTTP service, run as a user would: `npm start` from the
// checkout, then the README's curl blocks as written (only the host, ids and file names filled
// in), then the shared corpus (its transport sample) uploaded with tus-js-client (through the SDK), one job over
// it followed over SSE and WebSocket at once, another job cancelled mid-run, results fetched.
import assert from 'node:assert/strict';
import { parse as parseCsv } from 'csv-parse/sync';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ReamClient, ReamHttpError, type ReamEvent } from '../../src/client/index.ts';
import type { JobView } from '../../src/server/views.ts';
import { corpusDir, corpusSample, hasCommand, readManifest, repoRoot, requireCorpus, requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { LISTENING, STARTUP_TIMEOUT_MS, startProcess, type ReamProcess } from '../support/serve-process.ts';
import { WsClient } from '../support/ws-client.ts';

const run = promisify(execFile);
const README_HOST = 'http://127.0.0.1:8080';
/** The codes a bad corpus file may get, at upload or in its result: stable, never internal. */
const STABLE = new Set(['invalid_pdf', 'encrypted_pdf', 'unsupported_type', 'empty_file', 'too_many_pages', 'timeout', 'resource_limit', 'invalid_sheet']);

let dir: string;
let server: ReamProcess | undefined;
let url = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-walkthrough-'));
  // `npm start -- …` from the checkout, in its own process group (npm starts node under a shell).
  const started = await startProcess(
    { command: 'npm', args: ['start', '--', '--port', '0', '--data-dir', join(dir, 'data')], name: 'npm start', cwd: repoRoot, group: true },
    {},
    LISTENING,
    STARTUP_TIMEOUT_MS,
  );
  server = started.process;
  url = started.match[1] ?? '';
});
after(async () => {
  await server?.stop(15_000);
  await rm(dir, { recursive: true, force: true });
});

/** The shell commands of the first ```sh block after `after` in the README, continuation lines joined. */
function shellBlock(readme: string, after: string): string[] {
  const from = readme.indexOf(after);
  assert.ok(from >= 0, `the README has "${after}"`);
  const start = readme.indexOf('```sh\n', from) + '```sh\n'.length;
  const body = readme.slice(start, readme.indexOf('```', start));
  return body.replace(/\\\n\s*/g, '').split('\n').filter((line) => line.trim() !== '');
}

interface CurlAnswer {
  status: number;
  headers: string;
  body: string;
}

/** Runs one README curl line in `cwd` with the host and placeholders filled in; its status, headers and body. */
async function curl(line: string, fill: Record<string, string>, cwd: string): Promise<CurlAnswer & { expected: number }> {
  const comment = /\s#\s(.*)$/.exec(line)?.[1] ?? '';
  const expected = Number(/^(\d{3})\b/.exec(comment)?.[1] ?? 200);
  let command = line.replace(/\s#\s.*$/, '').replaceAll(README_HOST, url);
  for (const [placeholder, value] of Object.entries(fill)) command = command.replaceAll(placeholder, value);
  assert.doesNotMatch(command, /<\w+>/, `every placeholder of "${command}" is known`);
  const { stdout } = await run('bash', ['-c', `${command} -D headers.txt -o body.txt -w '%{http_code}'`], { cwd, timeout: 60_000 });
  return { status: Number(stdout.trim()), headers: await readFile(join(cwd, 'headers.txt'), 'utf8'), body: await readFile(join(cwd, 'body.txt'), 'utf8'), expected };
}

const header = (headers: string, name: string): string | undefined => new RegExp(`^${name}:\\s*(.+?)\\r?$`, 'im').exec(headers)?.[1];

async function jobView(id: string): Promise<JobView> {
  return (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobView;
}

async function ended(id: string): Promise<JobView> {
  for (const deadline = Date.now() + 300_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const job = await jobView(id);
    if (!['queued', 'running'].includes(job.status)) return job;
  }
  throw new Error(`job ${id} did not end within 300 s`);
}

describe('the README walkthrough against `npm start`', () => {
  test('the curl block of "The HTTP service" works as written', async (t) => {
    if (!requireOrSkip(t, hasCommand('curl'), 'curl')) return;
    const cwd = join(dir, 'curl');
    await rm(cwd, { recursive: true, force: true });
    await mkdir(cwd);
    await writeFile(join(cwd, 'a.pdf'), await makePdf({ pages: numberedPages('A', 30) }));
    const whole = await makePdf({ pages: numberedPages('B', 3) });
    await writeFile(join(cwd, 'b.pdf'), whole.subarray(0, Math.floor(whole.length / 2))); // cut short: fails, so retry has work

    const lines = shellBlock(await readFile(join(repoRoot, 'README.md'), 'utf8'), '## The HTTP service').filter((l) => l.startsWith('curl '));
    assert.equal(lines.length, 10);
    const fill: Record<string, string> = {};
    for (const line of lines) {
      const answer = await curl(line, fill, cwd);
      assert.equal(answer.status, answer.expected, `${line}\n→ ${answer.status} ${answer.body.slice(0, 300)}`);
      if (line.includes('-F file=@')) {
        const job = JSON.parse(answer.body) as JobView;
        assert.equal(header(answer.headers, 'location'), `/v1/jobs/${job.id}`);
        fill['<id>'] = job.id;
      } else if (line.includes('/documents?')) {
        const page = JSON.parse(answer.body) as { items: Array<{ name: string; ordinal: number }>; nextCursor: string | null };
        assert.deepEqual(page.items.map((d) => [d.ordinal, d.name]), [[0, 'a.pdf'], [1, 'b.pdf']]);
        assert.equal(page.nextCursor, null);
      } else if (line.includes('/events')) {
        const types = [...answer.body.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
        assert.equal(types[0], 'job.queued');
        assert.equal(types.at(-1), 'job.completed', 'the stream runs to the end of the job');
        assert.ok(types.includes('chunk.completed'));
      } else if (line.includes('/results')) {
        const items = answer.body.trim().split('\n').map((l) => JSON.parse(l) as { documentId: string; source: string; status: string; pageCount: number; error: { code: string } | null });
        fill['<documentId>'] = items[0]?.documentId ?? '';
        assert.deepEqual(items.map((i) => [i.source, i.status]), [['a.pdf', 'succeeded'], ['b.pdf', 'failed']]);
        assert.equal(items[0]?.pageCount, 30);
        assert.equal(items[1]?.error?.code, 'invalid_pdf');
      } else if (line.includes('/download')) {
        // -OJ: saved under the server's name, in the job's result order.
        assert.match(header(answer.headers, 'content-disposition') ?? '', new RegExp(`job-${fill['<id>']}\\.csv`));
        const saved = /filename\*?=(?:UTF-8'')?"?([^";]+)/.exec(header(answer.headers, 'content-disposition') ?? '')?.[1] ?? '';
        const rows: string[][] = parseCsv(await readFile(join(cwd, decodeURIComponent(saved)), 'utf8'), {});
        assert.deepEqual(rows[0]?.slice(0, 2), ['document', 'page']);
        assert.equal(rows.length, 1 + 30 + 1, 'a row per page of a.pdf, one for the failed b.pdf');
      } else if (line.includes('/cancel')) {
        assert.equal((JSON.parse(answer.body) as JobView).status, 'partially_succeeded', 'an ended job (or document) stays as it is');
      } else if (line.includes('/retry')) {
        assert.equal((await ended(fill['<id>'] ?? '')).status, 'partially_succeeded', 'the cut file fails again, a.pdf stays done');
      }
    }
    assert.equal((await fetch(`${url}/v1/jobs/${fill['<id>']}`)).status, 404, 'deleted');
  });

  test('the tus curl block uploads a file and runs a job over it', async (t) => {
    if (!requireOrSkip(t, hasCommand('curl'), 'curl')) return;
    const cwd = join(dir, 'curl');
    const big = await makePdf({ pages: numberedPages('Big', 40) });
    await writeFile(join(cwd, 'big.pdf'), big);
    const lines = shellBlock(await readFile(join(repoRoot, 'README.md'), 'utf8'), 'and so does plain curl');
    assert.equal(lines.length, 4);
    const fill: Record<string, string> = {};
    let jobId = '';
    for (const line of lines) {
      const answer = await curl(line, fill, cwd);
      assert.equal(answer.status, answer.expected, `${line}\n→ ${answer.status} ${answer.body.slice(0, 300)}`);
      if (line.includes('-X POST')) fill['<upload>'] = (header(answer.headers, 'location') ?? '').split('/').at(-1) ?? '';
      if (line.includes('-sI')) assert.equal(header(answer.headers, 'upload-offset'), String(big.length));
      if (line.includes('application/json')) jobId = (JSON.parse(answer.body) as JobView).id;
    }
    const job = await ended(jobId);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.progress.pagesDone, 40);
  });

  test('the corpus through tus-js-client; one job followed over SSE and WebSocket; another cancelled; results', { timeout: 900_000 }, async (t) => {
    if (!requireCorpus(t)) return;
    const client = new ReamClient({ baseUrl: url });
    const manifest = new Map((await readManifest()).map((e) => [e.name, e]));
    const names = await corpusSample();

    // Every file goes up over tus in 1 MiB chunks; the server checks each one's type by content.
    const uploads: string[] = [];
    const uploaded: string[] = [];
    const refused: string[] = [];
    const started = Date.now();
    for (const name of names) {
      try {
        const stored = await client.upload(join(corpusDir, name), { chunkSizeBytes: 1024 * 1024, sha256: 'compute' });
        assert.equal(stored.sha256, manifest.get(name)?.sha256 ?? stored.sha256, `${name} stored intact`);
        uploads.push(stored.uploadId);
        uploaded.push(name);
      } catch (error) {
        assert.ok(error instanceof ReamHttpError, `${name}: ${String(error)}`);
        assert.ok(STABLE.has(error.code), `${name} refused with a stable code, not ${error.code}`);
        assert.notEqual(manifest.get(name)?.status, 'ok', `${name} is a good PDF and must be accepted`);
        refused.push(`${name} (${error.code})`);
      }
    }
    t.diagnostic(`${uploaded.length} of ${names.length} files uploaded over tus in ${((Date.now() - started) / 1000).toFixed(1)} s; refused: ${refused.join(', ')}`);
    assert.ok(uploaded.length >= names.length - 10, `most files are accepted (${uploaded.length} of ${names.length})`);

    // No OCR: the walkthrough is about the ways in and out; OCR has tests of its own.
    const job = await client.submit({ uploads, pipeline: 'extract', options: { ocr: 'never' } });
    const ws = await WsClient.open(`${url.replace(/^http/, 'ws')}/v1/ws`);
    ws.send({ type: 'subscribe', jobId: job.id, afterSeq: 0 });
    const overSse: ReamEvent[] = [];
    for await (const event of client.events(job.id)) overSse.push(event);
    const overWs = await ws.eventsToEnd(job.id);
    ws.close();
    assert.equal(overSse.at(-1)?.type, 'job.completed');
    assert.deepEqual(overSse.map((e) => e.seq), overSse.map((_, i) => i + 1), 'SSE: gapless from 1');
    assert.deepEqual(overWs.map((e) => e.seq), overSse.map((e) => e.seq), 'the WebSocket saw the same events');
    const last = overSse.at(-1);
    assert.equal(last?.progress.documentsDone, uploads.length);
    assert.equal(last?.progress.pagesDone, last?.progress.pagesTotal);

    const items = await client.results(job.id);
    const endedAs = (await client.getJob(job.id)).status;
    assert.ok(endedAs === 'succeeded' || endedAs === 'partially_succeeded', endedAs);
    assert.deepEqual(items.map((i) => i.source), uploaded, 'one result per upload, in order');
    for (const item of items) {
      const entry = manifest.get(item.source);
      if (entry?.status === 'ok') {
        assert.notEqual(item.status, 'failed', `${item.source}: ${item.error?.code ?? ''}`);
        assert.equal(item.pageCount, entry.pages, `${item.source} page count`);
      } else if (item.status === 'failed') {
        assert.ok(item.error && STABLE.has(item.error.code), `${item.source}: ${item.error?.code ?? ''} is stable`);
      }
    }

    // Another job, cancelled while it runs: it ends cancelled and the first one's results stay.
    // Every page OCR'd (a second or so each), so that it is still running when the cancel comes:
    // text extraction alone reads 400 pages before the request arrives.
    const long = await client.submit({ files: [{ name: 'long.pdf', data: await makePdf({ pages: numberedPages('L', 400) }) }], options: { chunkPages: 10, ocr: 'always' } });
    const cancelled = await client.cancel(long.id);
    assert.equal(cancelled.status, 'cancelled');
    const final = await client.wait(long.id);
    assert.equal(final.status, 'cancelled');
    assert.ok(final.progress.pagesDone < 400, 'cancelled before its last page');
    assert.equal((await client.getJob(job.id)).status, endedAs, 'the corpus job is untouched');
    assert.equal((await client.results(job.id)).length, items.length, 'the finished job keeps its results');
    assert.equal((await fetch(`${url}/healthz`)).status, 200, server?.output());
  });
});
