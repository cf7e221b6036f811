// The browser's adapter for upload.ts (the dashboard's Vite build swaps it in): tus-js-client's
// browser build reads Files and Blobs itself; paths and Node streams do not exist here.
import { DetailedError } from 'tus-js-client';
import { ReamError } from '../errors.ts';
import { errorFromAnswer, unreachable } from './errors.ts';
import { DEFAULT_CHUNK_BYTES, DEFAULT_RETRY_DELAYS, runTus } from './tus-run.ts';
import type * as NodeUpload from './upload.ts';

export type { TusTarget, UploadOptions, UploadSource } from './upload.ts';

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
  if (response && response.getStatus() > 0) return errorFromAnswer(response.getStatus(), '', response.getHeader('content-type') ?? '', response.getBody(), response.getHeader('retry-after'));
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

  return await runTus(
    blob,
    {
      endpoint: target.endpoint,
      headers: target.headers,
      chunkSize: options.chunkSizeBytes ?? DEFAULT_CHUNK_BYTES,
      retryDelays: options.retryDelays ?? DEFAULT_RETRY_DELAYS,
      metadata: { filename: name, ...(options.sha256 === undefined ? {} : { sha256: options.sha256.toLowerCase() }) },
      uploadSize: blob.size,
      urlStorage: target.urlStorage,
      fingerprint: () => Promise.resolve(fingerprint),
      storeFingerprintForResuming: resume,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => options.onProgress?.(sent, total),
    },
    { signal, resume, toError: (error) => uploadError(error, target.baseUrl) },
  );
};
