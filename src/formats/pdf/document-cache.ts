// One open document per pool thread, kept between tasks. The chunks of one document arrive back
// to back, and reopening costs: pdf.js parses font programs and CMaps again (measured: +50% time
// on a 429-page Chinese book read in 32-page chunks), PDFium its cross-reference table and page
// tree. Shared by both engines (pdfjs.ts, pdfium.ts); each keeps a cache of its own.
import { statSync } from 'node:fs';
import { fileIoError } from '../file-checks.ts';

/** How long a thread keeps its last document open after a task, in ms. */
export const KEEP_OPEN_MS = 5_000;

export interface DocumentCache<D> {
  /**
   * Runs `use` with the document at `path`, reusing the open copy when the file is the same
   * (path, size and mtime) and so is `variant` (what else the opening depended on: a password).
   * One document at most, closed after {@link KEEP_OPEN_MS} idle or when another comes; `open`
   * opens it when the open copy is not that one.
   */
  with<T>(path: string, variant: string, open: () => Promise<D>, use: (doc: D) => Promise<T> | T): Promise<T>;
  /** Closes the open document now, if any. */
  close(): Promise<void>;
}

/**
 * `read(path)` (a synchronous `fs` call) with its failure as `io_error`. A pool thread reads its
 * files synchronously: it runs one task at a time and has nothing else to do while it waits,
 * whereas an async call waits in libuv's queue, which the process shares, behind the main
 * thread's file work (streaming files into the blob store). Measured on a `ream run` of the
 * corpus: ~0.9 ms a call through the queue against ~0.1 ms directly, ~0.2 s of a run.
 */
export function readInThread<T>(path: string, read: (path: string) => T): T {
  try {
    return read(path);
  } catch (error) {
    throw fileIoError('read', error);
  }
}

export function createDocumentCache<D>(close: (doc: D) => Promise<void> | void): DocumentCache<D> {
  let current: { key: string; doc: D } | undefined;
  let closeTimer: NodeJS.Timeout | undefined;

  async function closeCurrent(): Promise<void> {
    const kept = current;
    current = undefined;
    if (kept) await close(kept.doc);
  }

  return {
    async with(path, variant, open, use) {
      clearTimeout(closeTimer);
      const info = readInThread(path, (file) => statSync(file));
      const key = `${path}\0${info.size}\0${info.mtimeMs}\0${variant}`;
      if (current?.key !== key) {
        await closeCurrent();
        current = { key, doc: await open() };
      }
      try {
        return await use(current.doc);
      } finally {
        closeTimer = setTimeout(() => void closeCurrent().catch(() => {}), KEEP_OPEN_MS);
        closeTimer.unref();
      }
    },
    close: closeCurrent,
  };
}
