import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileReadError, ReamError } from '../errors.ts';

/** A file to submit: a path on disk (streamed, never read whole) or bytes with a name. */
export type SubmitFile = string | { name: string; data: Blob | Uint8Array };

export interface FileBlob {
  name: string;
  blob: Blob;
  /** Set for files on disk (they can be uploaded over tus and resumed). */
  path?: string;
}

/** Size and modification time of a regular file; `not_found`, `validation_failed` (not a file) or `io_error`. */
export async function statFile(path: string): Promise<{ size: number; mtimeMs: number }> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw ReamError.nonRetryable('validation_failed', `${path} is not a file`);
    return info;
  } catch (error) {
    throw fileReadError(path, error);
  }
}

/** A file as a Blob: a path is backed by the file (`fs.openAsBlob`), so nothing is read yet. */
export async function fileBlob(file: SubmitFile): Promise<FileBlob> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed under the DOM lib (ui/tsconfig.json), whose BlobPart refuses a view of a SharedArrayBuffer
  if (typeof file !== 'string') return { name: file.name, blob: file.data instanceof Blob ? file.data : new Blob([file.data as Uint8Array<ArrayBuffer>]) };
  await statFile(file);
  try {
    return { name: basename(file), blob: await openAsBlob(file), path: file };
  } catch (error) {
    throw fileReadError(file, error);
  }
}
