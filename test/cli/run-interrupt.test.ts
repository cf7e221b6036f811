// `ream run` interrupted: by kill -9 (nothing lost, nothing done twice) and by Ctrl-C. Apart from
// run.test.ts so that the two files run side by side.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { readLines } from './lines.ts';
import { run, start } from './run-process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-cli-interrupt-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ream run, interrupted', () => {
  test('kill -9 mid-run, run again: every file exactly once, no chunk redone', async () => {
    const work = join(dir, 'crash');
    await mkdir(join(work, 'docs'), { recursive: true });
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `doc-${String(i).padStart(2, '0')}.pdf`;
      names.push(name);
      await writePdf(join(work, 'docs', name), { pages: numberedPages(`K${i}`, 40) });
    }
    const args = ['run', 'docs', '--out', 'out.jsonl', '--chunk-pages', '4', '--concurrency', '2', '--threads', '1', '--progress', 'none'];
    const child = start(args, work);
    const out = join(work, 'out.jsonl');
    // However long a busy machine takes to write two lines (the test's own timeout bounds it).
    // Whole lines only: the file may end in a line being written (and, after the kill, cut short).
    const wholeLines = (): number => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').length - 1 : 0);
    while (child.exitCode === null && wholeLines() < 2) await sleep(20);
    child.kill('SIGKILL');
    await new Promise((resolveExit) => child.on('exit', resolveExit));
    const before = wholeLines();
    assert.ok(before >= 2 && before < names.length, `killed mid-run (${before} of ${names.length} written)`);

    const again = await run(args, work);
    assert.equal(again.code, 0, again.stderr);
    const lines = readLines(out);
    assert.deepEqual(lines.map((l) => l.path).sort(), names.map((n) => `docs/${n}`));
    for (const line of lines) {
      assert.equal(line.status, 'succeeded');
      assert.equal(line.pages?.length, 40);
    }

    // The events in the data dir record each chunk's completion: exactly one per chunk.
    const db = openSqliteDatabase(join(work, '.ream/ream.db'));
    const store = await SqliteStore.open(db);
    try {
      const [job] = (await store.listJobs({ tenantId: 'local' })).items;
      assert.ok(job);
      assert.equal(job.status, 'succeeded');
      const events = await store.listEvents(job.id, 0, 100_000);
      const chunkKeys = events.filter((e) => e.type === 'chunk.completed').map((e) => `${e.documentId}:${e.chunk?.index}`);
      assert.equal(new Set(chunkKeys).size, chunkKeys.length, 'no chunk completed twice');
      // A kill between a chunk's checkpoint and its event leaves that one event unwritten (the
      // checkpoint stands and the chunk is not redone), so at most one or two may be missing.
      assert.ok(chunkKeys.length >= names.length * 10 - 2, `about 12 files × 10 chunk events, got ${chunkKeys.length}`);
      for (const doc of await store.listJobDocuments(job.id)) {
        const chunks = await store.listChunkResults(job.id, doc.documentId);
        assert.equal(chunks.filter((c) => c.status === 'succeeded').length, 10, 'every chunk checkpointed once');
      }
    } finally {
      await store.close();
      await db.close();
    }
  });

  test('Ctrl-C stops cleanly (exit 130) and the next run finishes', async () => {
    const work = join(dir, 'sigint');
    await mkdir(join(work, 'docs'), { recursive: true });
    for (let i = 0; i < 8; i++) await writeFile(join(work, 'docs', `d${i}.pdf`), await makePdf({ pages: numberedPages(`S${i}`, 60) }));
    const args = ['run', 'docs', '--chunk-pages', '3', '--concurrency', '1', '--threads', '1', '--progress', 'lines'];
    const child = start(args, work);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    while (child.exitCode === null && !/\[1\] succeeded/.test(stderr)) await sleep(20);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
    assert.equal(code, 130, stderr);
    assert.match(stdout, /interrupted/);
    const again = await run(args, work);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readLines(join(work, 'ream-results.jsonl')).length, 8);
  });
});
