// The browser's adapter for upload.ts (the dashboard's Vite build swaps it in): tus-js-client's
// browser build reads Files and Blobs itself; paths and Node streams do not exist here.
import { DetailedError, Upload } from 'tus-js-client';
import { ReamError } from '../errors.ts';
import { errorFromAnswer, unreachable } from './errors.ts';
import type * as NodeUpload from './upload.ts';

export type { TusTarget, UploadOptions, UploadSource } from './upload.ts';
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

/** FNV-1a: a short tag of the credentials, so that one key's unfinished uploads are not offered to another. */
function tagOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16);
}

/** The SDK's error for a failed tus request: the server's problem (with its stable code), or an unreachable server. */
function uploadError(error: unknown, baseUrl: string): ReamError {
  const response = error instanceof DetailedError ? error.originalResponse : null;
  if (response && response.getStatus() > 0) return errorFromAnswer(response.getStatus(), '', response.getHeader('content-type') ?? '', response.getBody());
  if (error instanceof ReamError) return error;
  return unreachable(baseUrl, error);
}

export const tusUpload: typeof NodeUpload.tusUpload = async (source, options, target) => {
  const { signal } = options;
  signal?.throwIfAborted();
  if (!(source instanceof Blob) && !(source instanceof Uint8Array)) throw invalid('a browser uploads a File, a Blob or bytes');
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed under the DOM lib (ui/tsconfig.json), as in files.ts
  const blob = source instanceof Blob ? source : new Blob([source as Uint8Array<ArrayBuffer>]);
  const name = options.name ?? (blob instanceof File && blob.name !== '' ? blob.name : 'upload');
  if (options.sha256 !== undefined && options.sha256 !== 'compute' && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) throw invalid('sha256 must be 64 hex digits or "compute"');
  if (options.sha256 === 'compute') throw invalid('sha256 "compute" is not available in a browser: pass the digest');
  const modified = blob instanceof File ? blob.lastModified : 0;
  const fingerprint = `ream-br:${name}:${blob.size}:${modified}:${target.endpoint}:${tagOf(target.headers.authorization ?? '')}`;
  const resume = options.resume ?? true;

  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const tus = new Upload(blob, {
        endpoint: target.endpoint,
        headers: target.headers,
        chunkSize: options.chunkSizeBytes ?? DEFAULT_CHUNK_BYTES,
        retryDelays: options.retryDelays ?? [0, 1000, 3000, 5000],
        metadata: { filename: name, ...(options.sha256 === undefined ? {} : { sha256: options.sha256.toLowerCase() }) },
        uploadSize: blob.size,
        urlStorage: target.urlStorage,
        fingerprint: () => Promise.resolve(fingerprint),
        storeFingerprintForResuming: resume,
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => options.onProgress?.(sent, total),
        onSuccess: () => {
          const id = (tus.url ?? '').split('/').pop() ?? '';
          if (id === '') reject(ReamError.nonRetryable('internal', 'the server gave the upload no URL'));
          else resolve(decodeURIComponent(id));
        },
        onError: (error) => reject(uploadError(error, target.baseUrl)),
      });
      onAbort = () => {
        tus.abort(false).catch(() => undefined);
        const reason: unknown = signal?.reason;
        reject(reason instanceof Error ? reason : Object.assign(new Error('The upload was aborted'), { name: 'AbortError' }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const begin = async (): Promise<void> => {
        if (resume) {
          const previous = await tus.findPreviousUploads();
          const latest = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
          if (latest) tus.resumeFromPreviousUpload(latest);
        }
        if (!signal?.aborted) tus.start();
      };
      begin().catch((error: unknown) => reject(uploadError(error, target.baseUrl)));
    });
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
};
