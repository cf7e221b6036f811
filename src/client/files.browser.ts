// The browser's adapter for files.ts (the dashboard's Vite build swaps it in): a browser has no
// paths, only Blobs and Files, so a path is `validation_failed` here.
import { ReamError } from '../errors.ts';
import type * as NodeFiles from './files.ts';
import { bytesBlob } from './file-bytes.ts';

export type { FileBlob, SubmitFile } from './files.ts';

export const fileBlob: typeof NodeFiles.fileBlob = (file) => {
  if (typeof file === 'string') return Promise.reject(ReamError.nonRetryable('validation_failed', 'a browser cannot read a file path: pass a File or bytes'));
  // A throw in the executor rejects: a file of the wrong shape is `validation_failed`.
  return new Promise((resolve) => resolve(bytesBlob(file)));
};
