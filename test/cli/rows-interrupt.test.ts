// `ream rows` stopped midway (kill -9, Ctrl-C) and run again: the table comes out whole, and no
// row batch is done twice.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { planChunks } from '../../src/pipeline/chunk-planner.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { invoiceFields, invoiceRow, toCsv } from '../formats/sheet-files.ts';
import { checkpoints, readCsv, useRowsFolder, workDir } from './rows-helpers.ts';
import { run, start } from './run-process.ts';

useRowsFolder();

describe('ream rows, interrupted', () => {
  test('kill -9 midway, run again: the table is whole and no row batch was done twice', async () => {
    const work = await workDir('resume');
    const count = 600;
    await writeFile(join(work, 'in.csv'), toCsv([['name', 'note', 'amount'], ...Array.from({ length: count }, (_, i) => invoiceRow(i + 1))]));
    const args = ['rows', 'in.csv', '--rules', 'rules.json', '--rows-per-task', '10', '--concurrency', '1', '--threads', '1', '--progress', 'none'];
    const batches = planChunks(count, 10).length;
    const child = start(args, work);
    const dbPath = join(work, '.ream/ream.db');
    // However long a busy machine takes to checkpoint a few batches (the test's timeout bounds it).
    while (child.exitCode === null && checkpoints(dbPath) < 5) await sleep(20);
    child.kill('SIGKILL');
    await new Promise((resolveExit) => child.on('exit', resolveExit));
    const db = openSqliteDatabase(dbPath);
    const store = await SqliteStore.open(db);
    try {
      const [job] = (await store.listJobs({ tenantId: 'local' })).items;
      assert.ok(job);
      const atKill = (await store.jobCounts(job.id)).chunksSucceeded;
      assert.ok(atKill >= 5 && atKill < batches, `killed midway (${atKill} of ${batches} batches done)`);

      const again = await run(args, work);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const [, ...out] = await readCsv(join(work, 'in-out.csv'));
      assert.equal(out.length, count);
      out.forEach((cells, index) => assert.deepEqual(cells, [...invoiceRow(index + 1), ...invoiceFields(index + 1), '', ''], `row ${index + 1}`));

      const events = await store.listEvents(job.id, 0, 100_000);
      const completed = events.filter((e) => e.type === 'chunk.completed').map((e) => e.chunk?.index);
      assert.equal(new Set(completed).size, completed.length, 'no row batch completed twice');
      // A kill between a batch's checkpoint and its event leaves that event unwritten (the
      // checkpoint stands and the batch is not redone), so at most one may be missing.
      assert.ok(completed.length >= batches - 1, `${batches} batches, ${completed.length} completed`);
      const [doc] = await store.listJobDocuments(job.id);
      assert.ok(doc);
      assert.equal((await store.listChunkResults(job.id, doc.documentId)).filter((c) => c.status === 'succeeded').length, batches);
    } finally {
      await store.close();
      await db.close();
    }
  });

  test('Ctrl-C stops cleanly (exit 130, no table yet) and the same command then finishes the table', async () => {
    const work = await workDir('sigint');
    const count = 400;
    await writeFile(join(work, 'in.csv'), toCsv([['name', 'note', 'amount'], ...Array.from({ length: count }, (_, i) => invoiceRow(i + 1))]));
    const args = ['rows', 'in.csv', '--rules', 'rules.json', '--out', 'out.jsonl', '--rows-per-task', '10', '--concurrency', '1', '--threads', '1', '--progress', 'none'];
    const child = start(args, work);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    while (child.exitCode === null && checkpoints(join(work, '.ream/ream.db')) < 3) await sleep(20);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
    assert.equal(code, 130, stdout);
    assert.match(stdout, /interrupted: in\.csv is not finished/);
    assert.equal(existsSync(join(work, 'out.jsonl')), false, 'no half table under the real name');

    const again = await run(args, work);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const lines = (await readFile(join(work, 'out.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.map((line) => [line.name, line.invoice, line.flag]), Array.from({ length: count }, (_, i) => [invoiceRow(i + 1)[0], ...invoiceFields(i + 1).map((v) => v || null)]));
  });
});
