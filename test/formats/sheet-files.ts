// Helpers of the table tests: formats over a real thread pool, files written into a temp dir,
// a table read whole (identify → inspect → extract, as the engine does), CSV text made here.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { CellValue, Extraction, Inspection, ReadLimits, ReadOptions } from '../../src/formats/types.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';

export const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 100_000 };

export interface TableRead {
  mediaType: string;
  inspection: Inspection;
  extraction: Extraction;
}

export interface SheetFixture {
  formats(): Formats;
  /** Writes `content` to a new file named `name` in the test's dir and returns its path. */
  file(name: string, content: string | Uint8Array): Promise<string>;
  /** identify → inspect → extract of every row. */
  read(path: string, options?: ReadOptions, readLimits?: ReadLimits): Promise<TableRead>;
}

/** Registers before/after hooks for a pool, the formats and a temp dir; call at the top of a file or a describe. */
export function sheetFixture(): SheetFixture {
  let pool: ThreadPool;
  let formats: Formats;
  let dir: string;
  before(async () => {
    pool = createThreadPool({ threads: 1 });
    formats = createFormats(pool);
    dir = await mkdtemp(join(tmpdir(), 'ream-sheet-'));
  });
  after(async () => {
    await pool.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    formats: () => formats,
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    async read(path, options, readLimits = limits) {
      const format = await formats.identify(path, undefined, readLimits);
      const inspection = await format.inspect(path, readLimits, undefined, options);
      const extraction = await format.extract(path, { from: 0, to: inspection.pageCount }, undefined, options);
      return { mediaType: format.mediaType, inspection, extraction };
    },
  };
}

/** RFC 4180 text of `rows`: every field quoted, `"` doubled, so any value survives. */
export function toCsv(rows: readonly (readonly string[])[], delimiter = ',', eol = '\r\n'): string {
  return rows.map((row) => row.map((cell) => `"${cell.replaceAll('"', '""')}"`).join(delimiter)).join(eol) + eol;
}

/** The cells of every extracted row, in column order: what a golden table is compared with. */
export function cellsOf(read: TableRead): CellValue[][] {
  const columns = read.inspection.metadata.columns ?? [];
  return read.extraction.pages.map((page) => columns.map((column) => page.cells?.[column] ?? null));
}
