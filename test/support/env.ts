import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** With CI=true nothing may skip: a missing service or corpus is a failure there. */
export const isCI = process.env.CI === 'true';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const corpusDir = process.env.REAM_CORPUS ?? fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function hasCorpus(): boolean {
  return existsSync(`${corpusDir}/manifest.tsv`);
}

/**
 * Skips the test, saying why, when `what` is unavailable — or fails it under CI, where
 * everything must be there. Returns true when the test may go on.
 */
export function requireOrSkip(t: TestContext, available: boolean, what: string): boolean {
  if (available) return true;
  if (isCI) throw new Error(`${what} is required when CI=true but is not available`);
  t.skip(`skipped: ${what} is not available`);
  return false;
}

export function requireCorpus(t: TestContext): boolean {
  return requireOrSkip(t, hasCorpus(), `the shared corpus (${corpusDir})`);
}

export interface CorpusEntry {
  name: string;
  path: string;
  status: 'ok' | 'encrypted' | 'malformed' | 'non-pdf';
  qpdfCheck: string;
  pages: number | null;
  size: number;
  sha256: string;
  tags: string[];
}

export async function readManifest(): Promise<CorpusEntry[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`${corpusDir}/manifest.tsv`, 'utf8');
  const [, ...rows] = text.trim().split('\n');
  return rows.map((row) => {
    const [name = '', status = '', qpdfCheck = '', pages = '', size = '', sha256 = '', tags = ''] = row.split('\t');
    return {
      name,
      path: `${corpusDir}/${name}`,
      status: status as CorpusEntry['status'],
      qpdfCheck,
      pages: pages === 'NA' ? null : Number(pages),
      size: Number(size),
      sha256,
      tags: tags.split(',').filter(Boolean),
    };
  });
}

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  const paths = (process.env.PATH ?? '').split(':');
  return paths.some((dir) => existsSync(`${dir}/${cmd}`));
}

/** Pages at most of an ok corpus file in {@link corpusSample}. */
const SAMPLE_MAX_PAGES = 45;

/**
 * The part of the shared corpus that the transport tests (HTTP, tus, `ream run`) send: every file
 * that is not a plain good PDF (bad ones, the CSV, the text files, files tagged malformed) and
 * every good PDF of up to 45 pages, about 470 of the corpus's 3,800 pages. Parsing is the same
 * code whichever way a file arrives, and `test/formats/corpus-*` parse the whole corpus against
 * pdftotext; these tests check what the transport adds (one result per file, in order, with the
 * outcome and page count the parser gives), which the sample covers at an eighth of the CPU.
 * Sorted by name, like `readdir` of the whole folder.
 */
export async function corpusSample(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const manifest = new Map((await readManifest()).map((entry) => [entry.name, entry]));
  const names = (await readdir(corpusDir)).sort();
  return names.filter((name) => {
    const entry = manifest.get(name);
    if (entry === undefined || entry.status !== 'ok' || entry.tags.includes('malformed')) return true;
    return entry.pages !== null && entry.pages <= SAMPLE_MAX_PAGES;
  });
}
