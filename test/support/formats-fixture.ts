// The readers over a real thread pool, with a temp dir to write files into: what the format
// tests share. Registers its before/after hooks where it is called (a file or a describe).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { Extraction, Inspection, ReadLimits, ReadOptions } from '../../src/formats/types.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';

export interface DocumentRead {
  mediaType: string;
  inspection: Inspection;
  extraction: Extraction;
}

export interface FormatsFixture {
  formats(): Formats;
  /** The fixture's temp dir (made before the first test, removed after the last). */
  dir(): string;
  /** Writes `content` to a new file named `name` in the fixture's dir and returns its path. */
  file(name: string, content: string | Uint8Array): Promise<string>;
  /** identify → inspect → extract of every page, as the engine does. */
  read(path: string, options?: ReadOptions, readLimits?: ReadLimits): Promise<DocumentRead>;
}

export function formatsFixture(prefix: string, limits: ReadLimits, threads = 1): FormatsFixture {
  let pool: ThreadPool | undefined;
  let formats: Formats;
  let dir: string | undefined;
  before(async () => {
    pool = createThreadPool({ threads });
    formats = createFormats(pool);
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await pool?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    formats: () => formats,
    dir: () => dir ?? tmpdir(),
    async file(name, content) {
      const path = join(dir ?? tmpdir(), name);
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
