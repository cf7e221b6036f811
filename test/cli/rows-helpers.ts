// Shared by the `ream rows` test files: a folder per case (with the invoice rules), reading a
// CSV out, and counting a data dir's finished row batches while a child process runs.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { INVOICE_RULES } from '../formats/sheet-files.ts';

let dir: string;
/** Registers the temp folder of the calling test file (before/after hooks). */
export function useRowsFolder(): void {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ream-cli-rows-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
}

export async function workDir(name: string): Promise<string> {
  const work = join(dir, name);
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'rules.json'), JSON.stringify(INVOICE_RULES));
  return work;
}

export const readCsv = async (path: string): Promise<string[][]> => {
  const records: string[][] = parse(await readFile(path, 'utf8'), { bom: true, relax_column_count: true });
  return records;
};

/**
 * Succeeded row batches in the data dir's database, counted with plain SQL while a child runs:
 * opening the store would migrate, racing the child's own migrations. Before the table exists
 * the query fails, and the count is 0.
 */
export function checkpoints(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (reader.prepare("select count(*) as n from chunk_results where status = 'succeeded'").get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    reader.close();
  }
}
