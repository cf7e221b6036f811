import { Readable } from 'node:stream';
import { ReamError } from '../errors.ts';
import type { PutOptions } from './port.ts';
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
