import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ReamError } from '../errors.ts';
import type { BlobInfo, PutOptions } from './port.ts';
import { checkSha256 } from './sha256.ts';

export type PutSource = Readable | AsyncIterable<Uint8Array>;

/** The put options every blob store checks the same way: a valid expected sha256, a sane size limit. */
export function checkPutOptions(options: PutOptions): { expected: string | undefined; maxBytes: number | undefined } {
  const expected = options.expectedSha256 === undefined ? undefined : checkSha256(options.expectedSha256);
  const { maxBytes } = options;
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw ReamError.nonRetryable('validation_failed', 'maxBytes must be a non-negative integer');
  }
  return { expected, maxBytes };
}

/** Runs a put that consumes `source`; on failure a Readable source is destroyed (its file or socket released). */
export async function consuming<T>(source: PutSource, put: () => Promise<T>): Promise<T> {
  try {
    return await put();
  } catch (error) {
    if (source instanceof Readable && !source.destroyed) source.destroy();
    throw error;
  }
}

/** A source read through a sha256 and a size limit, chunk by chunk; `info()` once it has been read to the end. */
export interface HashedSource {
  chunks: AsyncGenerator<Uint8Array>;
  /** What was read: its sha256 and size. */
  info(): BlobInfo;
  /** The error the source itself (or the size limit) raised, if reading it failed. */
  failure(): unknown;
}

/**
 * Reads `source` as bytes, hashing as it goes and refusing past `maxBytes` (`file_too_large`).
 * Leaving the loop early calls the source's `return()`: a stream is destroyed, not drained.
 */
export function hashing(source: PutSource, maxBytes: number | undefined): HashedSource {
  const hash = createHash('sha256');
  let size = 0;
  let failure: unknown;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const piece of source as AsyncIterable<Uint8Array | string>) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        size += chunk.byteLength;
        if (maxBytes !== undefined && size > maxBytes) {
          throw ReamError.nonRetryable('file_too_large', `the content is larger than ${maxBytes} bytes`, { details: { maxBytes } });
        }
        hash.update(chunk);
        yield chunk;
      }
    } catch (error) {
      failure = error;
      throw error;
    }
  }
  return { chunks: chunks(), info: () => ({ sha256: hash.digest('hex'), size }), failure: () => failure };
}
