import { open, stat } from 'node:fs/promises';
import { ReamError, toReamError } from '../errors.ts';
import type { PageRange, ReadLimits } from './types.ts';

/** Bytes read to tell what a file is. `%PDF-` may sit anywhere in the first 1024 (ISO 32000 §7.5.2 tolerance, as readers implement it). */
export const HEAD_BYTES = 4096;

/**
 * `io_error` for a file that cannot be opened or read, saying why (Node's code and words) but
 * not where: the path may be the server's own (its blob store, a local copy of an S3 object),
 * which a tenant reading the job's errors has no business seeing. The caller knows the file.
 */
export function fileIoError(verb: 'open' | 'read', error: unknown): ReamError {
  const words = error instanceof Error ? (error.message.split(', ')[0] ?? error.message) : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' && !words.startsWith(code) ? `${code}: ${words}` : words;
  return new ReamError('io_error', `cannot ${verb} the file (${reason})`, { cause: error });
}

/**
 * Reads the size and the first {@link HEAD_BYTES} of `path`, refusing empty files
 * (`empty_file`) and files over `limits.maxBytes` (`file_too_large`) before anything parses them.
 */
export async function readHead(path: string, limits: Pick<ReadLimits, 'maxBytes'>): Promise<{ head: Uint8Array; size: number }> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw fileIoError('open', error);
  });
  try {
    const { size } = await handle.stat();
    checkSize(size, limits);
    const head = new Uint8Array(Math.min(size, HEAD_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return { head: head.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

/** The size of `path` checked against the limits (see {@link checkSize}). */
export async function checkFileSize(path: string, limits: Pick<ReadLimits, 'maxBytes'>): Promise<number> {
  const size = await fileSize(path);
  checkSize(size, limits);
  return size;
}

/** The size of `path` in bytes (`io_error` if it cannot be read). */
export async function fileSize(path: string): Promise<number> {
  const { size } = await stat(path).catch((error: unknown) => {
    throw fileIoError('read', error);
  });
  return size;
}

export function checkSize(size: number, limits: Pick<ReadLimits, 'maxBytes'>): void {
  if (size === 0) throw ReamError.nonRetryable('empty_file', 'the file is empty (0 bytes)');
  if (size > limits.maxBytes) {
    throw ReamError.nonRetryable('file_too_large', `the file has ${count(size)} bytes; the limit is ${count(limits.maxBytes)} bytes (${SIZE_LIMIT_SET_BY})`, {
      details: { size, maxBytes: limits.maxBytes, limit: 'maxBytes' },
    });
  }
}

/** Where the size limit comes from, named in its refusals so that whoever meets it knows what to raise. */
const SIZE_LIMIT_SET_BY = 'the maxBytes option; --max-size <MB> for ream run and ream serve';
/** Where the page limit comes from (see {@link SIZE_LIMIT_SET_BY}). */
const PAGE_LIMIT_SET_BY = 'the maxPages option; --max-pages for ream run and ream serve';

/** `12,345`: counts in messages, where a bare 1073741824 is hard to read at a glance. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * `too_many_pages` past `limits.maxPages`, naming the limit and how to raise it. `pages`: what a
 * page of this document is, when ream cuts its pages itself (a text's pages are cut by size, so
 * a file within `maxBytes` may still be over `maxPages`: the reader needs to know why).
 */
export function checkPageCount(pageCount: number, limits: Pick<ReadLimits, 'maxPages'>, pages?: string): void {
  if (pageCount > limits.maxPages) {
    const what = pages === undefined ? '' : ` (${pages})`;
    throw ReamError.nonRetryable('too_many_pages', `the document has ${count(pageCount)} pages${what}; the limit is ${count(limits.maxPages)} pages (${PAGE_LIMIT_SET_BY})`, {
      details: { pageCount, maxPages: limits.maxPages, limit: 'maxPages' },
    });
  }
}

export function checkRange(range: PageRange): void {
  if (!Number.isInteger(range.from) || !Number.isInteger(range.to) || range.from < 0 || range.to < range.from) {
    throw ReamError.nonRetryable('validation_failed', `invalid page range [${range.from}, ${range.to})`);
  }
}

/** Throws `cancelled` when the signal has fired (for work that runs on the main thread). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  // A ReamError reason (the worker's "stopping") or a TimeoutError keep their meaning.
  const error = toReamError(signal.reason);
  throw error.code === 'internal' ? new ReamError('cancelled', error.message || 'cancelled', { cause: signal.reason }) : error;
}
