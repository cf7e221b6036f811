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
