// Output paths the CLI cannot write (a folder in /proc cannot be made, a file there cannot be
// opened) fail with io_error naming the path, as `--out` of `ream run` does, never `internal`,
// and never end the process from inside a library (exceljs opening an .xlsx).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { openTableWriter } from '../../src/cli/table-writers.ts';
import { checkReportsFolder, writeReports } from '../../src/cli/report-files.ts';
import type { Ream } from '../../src/runtime/create-ream.ts';
import { run } from './run-process.ts';
import { useRowsFolder, workDir } from './rows-helpers.ts';

useRowsFolder();

const ioError = (path: string) => (error: unknown): boolean => error instanceof ReamError && error.code === 'io_error' && error.message.includes(`cannot write the table ${path}`);

void test('a table that cannot be written (.csv, .jsonl, .xlsx; its file or its folder) is io_error naming it', { skip: !existsSync('/proc/self') && 'needs /proc' }, async () => {
  for (const path of ['/proc/unwritable.csv', '/proc/unwritable.jsonl', '/proc/unwritable.xlsx', '/proc/no-such-folder/out.csv']) {
    await assert.rejects(openTableWriter(path, ['a', 'b']), ioError(path), path);
  }
});

void test('a reports folder that cannot be made is io_error naming it, checked before a job and when its reports are written', { skip: !existsSync('/proc/self') && 'needs /proc' }, async () => {
  // No report is asked for before the folder is made: the engine is never reached.
  assert.throws(() => checkReportsFolder('/proc/no-such-folder'), (error) =>
    error instanceof ReamError && error.code === 'io_error' && error.message.includes('cannot write the reports folder /proc/no-such-folder'));
  // /proc is there, but no folder can be made in it.
  assert.throws(() => checkReportsFolder('/proc'), (error) => error instanceof ReamError && error.code === 'io_error');
  const ream = {} as Ream;
  await assert.rejects(writeReports(ream, [], '/proc/no-such-folder/reports'), (error) =>
    error instanceof ReamError && error.code === 'io_error' && error.message.includes('cannot write the reports folder /proc/no-such-folder/reports'));
});

void test('ream rows --out a path that cannot be written says io_error, not internal', { timeout: 180_000, skip: !existsSync('/proc/self') && 'needs /proc' }, async () => {
  const work = await workDir('unwritable-out');
  await writeFile(`${work}/in.csv`, 'a,b\n1,2\n');
  const result = await run(['rows', 'in.csv', '--out', '/proc/unwritable.csv', '--progress', 'none', '--data-dir', `${work}/data`], work);
  const said = result.stdout + result.stderr;
  assert.match(said, /cannot write the table \/proc\/unwritable\.csv: .*\[io_error\]/);
  assert.doesNotMatch(said, /\[internal\]/);
  assert.notEqual(result.code, 0);
  // Said before any row ran: the data dir was never made.
  assert.equal(existsSync(`${work}/data`), false);
  await writeFile(`${work}/report.html`, '<p>{{ a }}</p>');
  const reports = await run(['rows', 'in.csv', '--template', 'report.html', '--out-dir', '/proc/no-such-folder', '--progress', 'none', '--data-dir', `${work}/data`], work);
  assert.match(reports.stdout + reports.stderr, /cannot write the reports folder \/proc\/no-such-folder: .*\[io_error\]/);
  assert.equal(existsSync(`${work}/data`), false);
});
