import { ReamError } from '../errors.ts';
import type { FileBlob, SubmitFile } from './files.ts';

/**
 * A file given as bytes with a name, as a Blob. Anything else a caller passed (a number, null,
 * an object without `data`) is `validation_failed`: sent as it was, it became a file of its text.
 */
export function bytesBlob(file: Exclude<SubmitFile, string>): FileBlob {
  const { name, data } = (file ?? {}) as { name?: unknown; data?: unknown };
  if (typeof name !== 'string' || !(data instanceof Blob || data instanceof Uint8Array)) {
    throw ReamError.nonRetryable('validation_failed', 'a file is a path, or { name: string, data: Blob | Uint8Array }');
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed under the DOM lib (ui/tsconfig.json), whose BlobPart refuses a view of a SharedArrayBuffer
  return { name, blob: data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>]) };
}
