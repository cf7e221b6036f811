import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { fixturesDir, repoRoot } from '../support/env.ts';
import { readLines } from './lines.ts';

const BIN = join(repoRoot, 'bin/ream.js');

function start(args: string[], cwd: string): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, REAM_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  return { code, stdout, stderr };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ream run', () => {
  test('one correct line per file, a summary, exit 1 when any failed, and a resume that redoes nothing', async () => {
    const work = join(dir, 'basic');
    await mkdir(join(work, 'docs/sub'), { recursive: true });
    await writePdf(join(work, 'docs/a.pdf'), { pages: numberedPages('A', 3), title: 'Doc A' });
    await writePdf(join(work, 'docs/sub/b.pdf'), { pages: numberedPages('B', 1) });
    await copyFile(join(work, 'docs/a.pdf'), join(work, 'docs/a-copy.pdf')); // same content, two files
    await writeFile(join(work, 'docs/empty.pdf'), '');
    await writeFile(join(work, 'docs/.hidden.pdf'), 'ignored');
    await copyFile(join(fixturesDir, 'encrypted-user-password.pdf'), join(work, 'docs/locked.pdf'));

    const first = await run(['run', 'docs', '--out', 'out.jsonl', '--progress', 'lines'], work);
    assert.equal(first.code, 1, `exit 1 when a file failed\n${first.stderr}`);
    assert.match(first.stdout, /3 succeeded, 2 failed/);
    assert.match(first.stdout, /pages\/s/);
    assert.match(first.stderr, /empty_file/);
    // The first progress line counts the files named, before any is stored: not "0/1 documents, 0/0 pages".
    assert.match(first.stderr.split('\n')[0] ?? '', /^progress: 0\/5 files, 0 pages \(counting\), ETA \?$/);
    const lines = readLines(join(work, 'out.jsonl'));
    const byPath = new Map(lines.map((l) => [l.path, l]));
    assert.deepEqual([...byPath.keys()].sort(), ['docs/a-copy.pdf', 'docs/a.pdf', 'docs/empty.pdf', 'docs/locked.pdf', 'docs/sub/b.pdf']);
    assert.equal(lines.length, 5, 'exactly one line per file');
    assert.equal(byPath.get('docs/a.pdf')?.pageCount, 3);
    assert.match(byPath.get('docs/a.pdf')?.pages?.[1]?.text ?? '', /A page 2 of 3/);
    assert.equal(byPath.get('docs/a-copy.pdf')?.sha256, byPath.get('docs/a.pdf')?.sha256);
    assert.equal(byPath.get('docs/empty.pdf')?.error?.code, 'empty_file');
    assert.equal(byPath.get('docs/locked.pdf')?.error?.code, 'encrypted_pdf');

    // The output exists, so the next run resumes: nothing is redone, a new file is added.
    await writePdf(join(work, 'docs/c.pdf'), { pages: numberedPages('C', 2) });
    const second = await run(['run', 'docs', '--out', 'out.jsonl', '--progress', 'none'], work);
    assert.match(second.stdout, /1 succeeded, 0 failed, 5 already done \(resumed\) of 6 file\(s\)/);
    assert.equal(second.code, 0, 'exit code speaks of this run');
    const after = readLines(join(work, 'out.jsonl'));
    assert.equal(after.length, 6);
    assert.equal(new Set(after.map((l) => l.path)).size, 6);

    const full = await run(['run', 'docs/a.pdf', '--out', 'full.jsonl', '--text', 'full', '--no-resume', '--progress', 'none'], work);
    assert.equal(full.code, 0, full.stderr);
    assert.match(readLines(join(work, 'full.jsonl'))[0]?.text ?? '', /A page 1 of 3[\s\S]*\f[\s\S]*A page 2 of 3/);
    // After a --no-resume run, the same command resumes that new run.
    const again = await run(['run', 'docs/a.pdf', '--out', 'full.jsonl', '--text', 'full', '--progress', 'none'], work);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 succeeded, 0 failed, 1 already done/);
    assert.equal(readLines(join(work, 'full.jsonl')).length, 1);
  });

  test('usage errors exit 2 with a clear message', async () => {
    const missing = await run(['run', 'no-such-dir'], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file or directory: no-such-dir \[not_found\]/);
    const badFlag = await run(['run', '.', '--concurrency', '0'], dir);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /positive integer/);
  });

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
    while (child.exitCode === null && !(existsSync(out) && readLines(out).length >= 2)) await sleep(20);
    child.kill('SIGKILL');
    await new Promise((resolveExit) => child.on('exit', resolveExit));
    const before = existsSync(out) ? readLines(out).length : 0;
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
