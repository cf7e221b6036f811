import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { runReam, type ReamRun } from '../support/run-ream.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-client-cli-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  await writePdf(join(dir, 'a.pdf'), { pages: numberedPages('A', 3) });
  await writePdf(join(dir, 'b.pdf'), { pages: numberedPages('B', 2) });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

const { REAM_SERVER: _unused, ...withoutServer } = process.env;

function cli(args: string[], env: Record<string, string> = {}): Promise<ReamRun> {
  return runReam(args, { cwd: dir, baseEnv: withoutServer, env });
}

describe('ream submit / status / wait / cancel against a server', () => {
  test('submit --wait prints the id, progress on stderr (at most a line a second, and the last), the final status; exit 0', async () => {
    const started = Date.now();
    const run = await cli(['submit', 'a.pdf', 'b.pdf', '--server', server.url, '--options', '{"chunkPages":1}', '--priority', 'high', '--wait']);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.code, 0, run.stderr);
    const [id, status] = run.stdout.trim().split('\n');
    assert.equal(status, 'succeeded');
    const progress = run.stderr.trim().split('\n').filter((line) => /%\s+pages/.test(line));
    assert.ok(run.stderr.endsWith('documents: 2 succeeded, 0 partially succeeded, 0 failed, 0 cancelled of 2\npages: 5 of 5\n'), run.stderr);
    assert.match(progress.at(-1) ?? '', /100\.0%\s+pages 5\/5\s+documents 2\/2.*job\.completed$/);
    assert.ok(progress.length <= Math.ceil(seconds) + 2, `throttled: ${progress.length} lines in ${seconds} s`);

    const shown = await cli(['status', id ?? '', '--server', server.url]);
    assert.equal(shown.code, 0, shown.stderr);
    const job = JSON.parse(shown.stdout) as JobView;
    assert.equal(job.id, id);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.priority, 'high');
    assert.equal(job.progress.pagesDone, 5);

    const found = await cli(['search', 'INV-B-2', '--server', server.url]);
    assert.equal(found.code, 0, found.stderr);
    const [hit, ...more] = found.stdout.trim().split('\n');
    assert.deepEqual(more, []);
    assert.match(hit ?? '', /^doc_\w+\tb\.pdf\t2\t.*INV/);
    const json = await cli(['search', 'invoice', 'number', '--limit', '2', '--json', '--server', server.url]);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
    // Paging: the cursor of the next page on stderr, or every page with --all.
    const cursor = /more hits: --cursor (\S+)/.exec(json.stderr)?.[1];
    assert.ok(cursor, json.stderr);
    const next = await cli(['search', 'invoice', 'number', '--limit', '2', '--cursor', cursor, '--json', '--server', server.url]);
    const firstIds = (JSON.parse(json.stdout) as Array<{ documentId: string; page: number }>).map((hit) => `${hit.documentId}#${hit.page}`);
    const nextIds = (JSON.parse(next.stdout) as Array<{ documentId: string; page: number }>).map((hit) => `${hit.documentId}#${hit.page}`);
    assert.equal(nextIds.length, 2);
    assert.ok(nextIds.every((hit) => !firstIds.includes(hit)), 'the next hits, not the same');
    const every = await cli(['search', 'invoice', 'number', '--limit', '2', '--all', '--server', server.url]);
    assert.deepEqual([every.stdout.trim().split('\n').length, every.stderr], [5, ''], 'all five pages, and no cursor left');
    const filtered = await cli(['search', 'INV-B-2', '--job', id ?? '', '--type', 'pdf', '--from', '2000-01-01', '--server', server.url]);
    assert.match(filtered.stdout, /^doc_\w+\tb\.pdf\t2\t/, filtered.stderr);
    const elsewhere = await cli(['search', 'INV-B-2', '--job', 'job_none', '--field', 'invoice=INV-B-2', '--server', server.url]);
    assert.deepEqual([elsewhere.code, elsewhere.stdout], [0, ''], 'no hit in another job');
    assert.equal((await cli(['search', '--field', 'invoice', '--server', server.url])).code, 2, '--field without = is a usage error');

    // The results as a file: a row per page, named by the server, or to stdout.
    const saved = await cli(['download', id ?? '', '--server', server.url]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stdout.trim(), `job-${id ?? ''}.csv`);
    const csv = (await readFile(join(dir, `job-${id ?? ''}.csv`), 'utf8')).trim().split('\n');
    assert.equal(csv[0], 'document,page,text,error_code,error_message');
    assert.equal(csv.filter((line) => /^[ab]\.pdf,\d,/.test(line)).length, 5, 'five pages');
    const ndjson = await cli(['download', id ?? '', '--format', 'ndjson', '--out', '-', '--server', server.url]);
    assert.deepEqual(ndjson.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { source: string }).source), ['a.pdf', 'b.pdf']);
    // A path that cannot be written: io_error naming it, not internal.
    for (const out of [join(dir, 'no-such-folder', 'x.csv'), dir]) {
      const unwritable = await cli(['download', id ?? '', '--out', out, '--server', server.url]);
      assert.notEqual(unwritable.code, 0);
      assert.match(unwritable.stderr, new RegExp(`cannot write the download ${out.replaceAll('/', '\\/')}: .*\\[io_error\\]`), unwritable.stderr);
    }
    const wrong = await cli(['download', id ?? '', '--format', 'pdf', '--server', server.url]);
    assert.equal(wrong.code, 2);

    // A page whose text a spreadsheet would run as a formula: guarded with ' unless --csv-formulas keep.
    const formula = await new ReamClient({ baseUrl: server.url }).submit({ files: [{ name: 'f.pdf', data: await makePdf({ pages: ['=SUM(1,2)'] }) }] });
    await new ReamClient({ baseUrl: server.url }).wait(formula.id);
    const guarded = await cli(['download', formula.id, '--out', '-', '--server', server.url]);
    assert.match(guarded.stdout, /^f\.pdf,1,"'=SUM\(1,2\)/m);
    const kept = await cli(['download', formula.id, '--csv-formulas', 'keep', '--out', '-', '--server', server.url]);
    assert.match(kept.stdout, /^f\.pdf,1,"=SUM\(1,2\)/m);
    assert.equal((await cli(['download', formula.id, '--csv-formulas', 'run', '--server', server.url])).code, 2);
  });

  test('cancel prints cancelled; wait on it exits 130; REAM_SERVER is honoured', async () => {
    const client = new ReamClient({ baseUrl: server.url });
    const job = await client.submit({ files: [{ name: 'big.pdf', data: await makePdf({ pages: numberedPages('C', 400) }) }], options: { chunkPages: 1 } });
    const cancelled = await cli(['cancel', job.id], { REAM_SERVER: server.url });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout.trim(), 'cancelled');
    const waited = await cli(['wait', job.id, '--server', server.url]);
    assert.equal(waited.code, 130, waited.stderr);
    assert.equal(waited.stdout.trim(), 'cancelled');
    assert.equal(waited.stderr.trim().split('\n')[0], 'documents: 0 succeeded, 0 partially succeeded, 0 failed, 1 cancelled of 1', 'an ended job is answered at once with its summary, without replaying its events');
    assert.doesNotMatch(waited.stderr, /%\s+pages/);
  });

  test('cancel --document cancels one document; the job of that document alone ends cancelled', async () => {
    const client = new ReamClient({ baseUrl: server.url });
    const [stored] = await client.storeDocuments([{ name: 'long.pdf', data: await makePdf({ pages: numberedPages('D', 400) }) }]);
    assert.ok(stored);
    const job = await client.submit({ documents: [stored.id], options: { chunkPages: 1 } });
    const cancelled = await cli(['cancel', job.id, '--document', stored.id, '--server', server.url]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout.trim(), 'cancelled');
    assert.equal((await client.getJob(job.id)).counts.documents.cancelled, 1);
  });

  test('jobs lists the server\'s jobs newest first, one tab-separated line each; --status, --limit, --search, --oldest-first, --json', async () => {
    const client = new ReamClient({ baseUrl: server.url });
    const done = await client.submit({ files: [{ name: 'listed.pdf', data: await makePdf({ pages: ['listed'] }) }] });
    await client.wait(done.id);
    const newest = await client.submit({ files: [{ name: 'newest.pdf', data: await makePdf({ pages: numberedPages('N', 300) }) }], options: { chunkPages: 1 } });
    await client.cancel(newest.id);

    const listed = await cli(['jobs', '--server', server.url]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n').map((line) => line.split('\t'));
    assert.deepEqual(lines.slice(0, 2).map((fields) => [fields[0], fields[1]]), [[newest.id, 'cancelled'], [done.id, 'succeeded']]);
    assert.deepEqual(lines[1]?.slice(2, 5), ['extract', '100.0%', '1/1 documents']);
    assert.equal(lines.length, Math.min(20, (await client.listJobs({ limit: 500 })).items.length), 'the default limit, 20');

    const one = await cli(['jobs', '-n', '1', '--status', 'succeeded', '--json', '--server', server.url]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as JobView[]).map((job) => [job.id, job.status]), [[done.id, 'succeeded']]);
    const searched = await cli(['jobs', '--search', done.id.toUpperCase(), '--server', server.url]);
    assert.equal(searched.code, 0, searched.stderr);
    assert.deepEqual(searched.stdout.trim().split('\n').map((line) => line.split('\t')[0]), [done.id], '--search: the job whose id starts with it');
    const oldest = await cli(['jobs', '--oldest-first', '--json', '-n', '500', '--server', server.url]);
    assert.equal(oldest.code, 0, oldest.stderr);
    const ids = (JSON.parse(oldest.stdout) as JobView[]).map((job) => job.id);
    assert.ok(ids.indexOf(done.id) < ids.indexOf(newest.id), '--oldest-first: the older job first');
    const [badStatus, badLimit] = await Promise.all([cli(['jobs', '--status', 'done', '--server', server.url]), cli(['jobs', '-n', '2.5', '--server', server.url])]);
    assert.deepEqual([badStatus.code, badLimit.code], [2, 2]);
    assert.match(badLimit.stderr, /--limit must be an integer.*\[validation_failed\]/);
  });

  test('errors print "ream: <message> [code]" and exit 2', async () => {
    const [missing, badOptions, badPriority, unknownFlag, noServer, badServer] = await Promise.all([
      cli(['status', 'job_nope', '--server', server.url]),
      cli(['submit', 'a.pdf', '--server', server.url, '--options', '[1]']),
      cli(['submit', 'a.pdf', '--server', server.url, '--priority', 'urgent']),
      cli(['wait', 'job_x', '--bogus']),
      cli(['status', 'job_x', '--server', 'http://127.0.0.1:1']),
      cli(['status', 'job_x', '--server', 'ftp://example']),
    ]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'ream: no job job_nope [not_found]\n');
    assert.equal(badOptions.code, 2);
    assert.match(badOptions.stderr, /^ream: --options must be a JSON object \[validation_failed\]\n$/);
    assert.equal(badPriority.code, 2);
    assert.match(badPriority.stderr, /\[validation_failed\]\n$/);
    assert.equal(unknownFlag.code, 2);
    assert.match(unknownFlag.stderr, /ream: unknown option '--bogus' \[validation_failed\]/);
    assert.equal(noServer.code, 2);
    assert.match(noServer.stderr, /^ream: cannot reach http:\/\/127\.0\.0\.1:1.*\[io_error\]\n$/);
    assert.equal(badServer.code, 2);
    assert.match(badServer.stderr, /--server must be an http\(s\) URL.*\[validation_failed\]/);
  });

  test('delete-document (and the SDK\'s deleteDocument) removes a document once its job ended; again it is not_found', async () => {
    const client = new ReamClient({ baseUrl: server.url });
    const first = await client.submit({ files: [{ name: 'gone.pdf', data: await makePdf({ pages: ['delete me by CLI'] }) }] });
    await client.wait(first.id);
    const [doc] = await ream.jobDocuments(first.id);
    const deleted = await cli(['delete-document', doc?.documentId ?? '', '--server', server.url]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted ${doc?.documentId ?? ''}\n`);
    const again = await cli(['delete-document', doc?.documentId ?? '', '--server', server.url]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /\[not_found\]\n$/);

    const second = await client.submit({ files: [{ name: 'sdk.pdf', data: await makePdf({ pages: ['delete me by SDK'] }) }] });
    await client.wait(second.id);
    const [other] = await ream.jobDocuments(second.id);
    await client.deleteDocument(other?.documentId ?? '');
    await assert.rejects(client.getDocument(other?.documentId ?? ''), (error: unknown) => (error as { code?: string }).code === 'not_found');
  });

  test('a file that does not exist is not_found, before anything is sent', async () => {
    const run = await cli(['submit', 'nope.pdf', '--server', server.url]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^ream: cannot read nope\.pdf.*\[not_found\]\n$/);
  });

  test('a download cut off midway leaves no file at --out (and an earlier one as it was), io_error, exit 2', async () => {
    // A server that promises 1000 bytes, sends half and drops the connection: a server dying mid-download.
    const cut: Server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/csv', 'content-length': '1000', 'content-disposition': 'attachment; filename="job-cut.csv"' });
      response.write('x'.repeat(500), () => request.socket.destroy());
    });
    cut.listen(0, '127.0.0.1');
    await once(cut, 'listening');
    const url = `http://127.0.0.1:${(cut.address() as AddressInfo).port}`;
    const folder = await mkdtemp(join(dir, 'cut-'));
    try {
      const fresh = join(folder, 'fresh.csv');
      const run = await cli(['download', 'job_cut', '--out', fresh, '--server', url]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^ream: the download from .* job job_cut broke off before its end \(.+\); .*fresh\.csv is not written \[io_error\]\n$/, run.stderr);
      assert.equal(run.stdout, '', 'no file name printed');

      const earlier = join(folder, 'earlier.csv');
      await writeFile(earlier, 'the complete earlier download\n');
      const again = await cli(['download', 'job_cut', '--out', earlier, '--server', url]);
      assert.equal(again.code, 2, again.stderr);
      assert.equal(await readFile(earlier, 'utf8'), 'the complete earlier download\n', 'the earlier file is kept as it was');
      assert.deepEqual(await readdir(folder), ['earlier.csv'], 'no fresh.csv, no partial file left behind');
    } finally {
      cut.close();
      cut.closeAllConnections();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
