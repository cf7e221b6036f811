import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileReadError, ReamError } from '../errors.ts';
import { bytesBlob } from './file-bytes.ts';

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
  if (typeof file !== 'string') return bytesBlob(file);
  await statFile(file);
  try {
    return { name: basename(file), blob: await openAsBlob(file), path: file };
  } catch (error) {
    throw fileReadError(file, error);
  }
}
