// The browser's adapter for files.ts (the dashboard's Vite build swaps it in): a browser has no
// paths, only Blobs and Files, so a path is `validation_failed` here.
import { ReamError } from '../errors.ts';
import type * as NodeFiles from './files.ts';

export type { FileBlob, SubmitFile } from './files.ts';

export const fileBlob: typeof NodeFiles.fileBlob = (file) => {
  if (typeof file === 'string') return Promise.reject(ReamError.nonRetryable('validation_failed', 'a browser cannot read a file path: pass a File or bytes'));
  return Promise.resolve({ name: file.name, blob: file.data instanceof Blob ? file.data : new Blob([file.data as Uint8Array<ArrayBuffer>]) });
};
