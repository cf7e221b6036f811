// One tus upload run to its end, the same in Node (upload.ts) and in a browser
// (upload.browser.ts): resume the newest upload remembered for the source, stop on the signal,
// and answer the upload id the server gave it. What is read and how differs; this does not.
import { Upload, type UploadOptions as TusOptions } from 'tus-js-client';
import { ReamError } from '../errors.ts';

export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Waits in ms before each retry of a failed request (tus-js-client does not retry 4xx answers). */
export const DEFAULT_RETRY_DELAYS = [0, 1000, 3000, 5000];

/** The signal's reason when it is an error (as `AbortSignal.timeout` and `abort()` give), else an AbortError. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : Object.assign(new Error('The upload was aborted'), { name: 'AbortError' });
}

export interface TusRun {
  signal?: AbortSignal | undefined;
  /** Look for an unfinished upload of the same source (by the options' fingerprint) and continue it. */
  resume: boolean;
  /** The SDK's error for a failed tus request. */
  toError(error: unknown): ReamError;
}

/** Uploads `input` with tus-js-client; resolves with the upload id (the last segment of its URL). */
export async function runTus(input: ConstructorParameters<typeof Upload>[0], options: Omit<TusOptions, 'onSuccess' | 'onError'>, run: TusRun): Promise<string> {
  const { signal } = run;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const tus = new Upload(input, {
        ...options,
        onSuccess: () => {
          const id = (tus.url ?? '').split('/').pop() ?? '';
          if (id === '') reject(ReamError.nonRetryable('internal', 'the server gave the upload no URL'));
          else resolve(decodeURIComponent(id));
        },
        onError: (error) => reject(run.toError(error)),
      });
      onAbort = () => {
        tus.abort(false).catch(() => undefined);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const begin = async (): Promise<void> => {
        if (run.resume) {
          const previous = await tus.findPreviousUploads();
          // The newest record wins: an older one may point at an upload that expired since.
          const latest = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
          if (latest) tus.resumeFromPreviousUpload(latest);
        }
        if (!signal?.aborted) tus.start();
      };
      begin().catch((error: unknown) => reject(run.toError(error)));
    });
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
