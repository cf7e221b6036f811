/**
 * Uploads over tus 1.0 (`/v1/uploads`) with tus-js-client: chunked, retried, and resumable — an
 * interrupted upload of the same source continues from the offset the server holds.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { DetailedError, defaultOptions, type FileReader, type FileSource, type UrlStorage } from 'tus-js-client';
import { ReamError } from '../errors.ts';
import { errorFromAnswer, unreachable } from './errors.ts';
import { statFile } from './files.ts';
import { DEFAULT_CHUNK_BYTES, DEFAULT_RETRY_DELAYS, runTus } from './tus-run.ts';

/** What to upload: a file path (read in slices, never whole), a Node stream, bytes, or a Blob. */
export type UploadSource = string | Readable | Uint8Array | Blob;

export interface UploadOptions {
  /** The document's name (`Upload-Metadata` `filename`). Default: the file's base name, a `File`'s name, else `upload`. */
  name?: string;
  /**
   * The content's sha256 (64 hex digits) for the server to check (a mismatch fails the upload with
   * `checksum_mismatch`), or `'compute'` to hash the source first: a path is read once more for
   * that, a stream cannot be (it is `validation_failed`).
   */
  sha256?: string;
  /** A stream's length in bytes, if known; otherwise the length is declared with the last chunk. */
  size?: number;
  /** Bytes per PATCH request; one chunk is held in memory at a time. Default 8 MiB. */
  chunkSizeBytes?: number;
  /** Bytes sent so far and the total (null while a stream's length is unknown). */
  onProgress?: (sent: number, total: number | null) => void;
  /** Stops the upload; what the server holds stays, so the next upload of the same source resumes. */
  signal?: AbortSignal;
  /** Waits in ms before each retry of a failed request (not for 4xx answers). Default [0, 1000, 3000, 5000]. */
  retryDelays?: number[];
  /** Resume an interrupted upload of the same source (not possible for a stream). Default true. */
  resume?: boolean;
}

/** Where and as whom to upload. */
export interface TusTarget {
  /** The `/v1/uploads` URL. */
  endpoint: string;
  baseUrl: string;
  /** Sent with every tus request (authorization). */
  headers: Record<string, string>;
  urlStorage: UrlStorage;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** A path source, told apart from the other inputs by the file reader. */
class FilePath {
  readonly path: string;
  readonly size: number;
  constructor(path: string, size: number) {
    this.path = path;
    this.size = size;
  }
}

interface PreparedSource {
  input: FilePath | Readable | Buffer | Blob;
  name: string;
  size: number | undefined;
  /** Identifies the content for resuming (with the endpoint and credentials); undefined: cannot resume. */
  identity: string | undefined;
  sha256: string | undefined;
}

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** The declared sha256: the caller's (checked for form), the source's when asked to compute it, else none. */
async function declaredSha256(requested: string | undefined, compute: () => Promise<string> | undefined): Promise<string | undefined> {
  if (requested === undefined) return undefined;
  if (requested !== 'compute') {
    if (!SHA256_HEX.test(requested)) throw invalid('sha256 must be 64 hex digits or "compute"');
    return requested.toLowerCase();
  }
  const computed = compute();
  if (computed === undefined) throw invalid('sha256 "compute" needs a path, bytes or a Blob: a stream can be read only once');
  return computed;
}

async function prepare(source: UploadSource, options: UploadOptions): Promise<PreparedSource> {
  const resume = options.resume ?? true;
  if (typeof source === 'string') {
    const { size, mtimeMs } = await statFile(source);
    return {
      input: new FilePath(source, size),
      name: options.name ?? basename(source),
      size,
      identity: resume ? `file:${resolve(source)}:${size}:${mtimeMs}` : undefined,
      sha256: await declaredSha256(options.sha256, () => sha256Of(createReadStream(source))),
    };
  }
  if (source instanceof Readable) {
    return { input: source, name: options.name ?? 'upload', size: options.size, identity: undefined, sha256: await declaredSha256(options.sha256, () => undefined) };
  }
  const inMemory = source instanceof Blob ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  const size = inMemory instanceof Blob ? inMemory.size : inMemory.length;
  const hashContent = (): Promise<string> =>
    inMemory instanceof Blob ? sha256Of(inMemory.stream()) : Promise.resolve(createHash('sha256').update(inMemory).digest('hex'));
  // Bytes have no path or date: their content hash is what names them for resuming.
  const contentSha = resume || options.sha256 === 'compute' ? await hashContent() : undefined;
  return {
    input: inMemory,
    name: options.name ?? (inMemory instanceof File && inMemory.name !== '' ? inMemory.name : 'upload'),
    size,
    identity: contentSha === undefined ? undefined : `bytes:${contentSha}:${size}`,
    sha256: await declaredSha256(options.sha256, () => (contentSha === undefined ? hashContent() : Promise.resolve(contentSha))),
  };
}

/** A path read in slices through one file handle; a file that shrinks underway is an `io_error`. */
async function fileSource(file: FilePath): Promise<FileSource> {
  const handle = await open(file.path, 'r');
  return {
    size: file.size,
    async slice(start, end) {
      const stop = Math.min(end, file.size);
      const buffer = Buffer.allocUnsafe(Math.max(0, stop - start));
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
        if (bytesRead === 0) throw ReamError.nonRetryable('io_error', `${file.path} changed while it was being uploaded`);
        filled += bytesRead;
      }
      return { value: sized(buffer), done: stop >= file.size };
    },
    close() {
      handle.close().catch(() => undefined);
    },
  };
}

function blobSource(blob: Blob): FileSource {
  return {
    size: blob.size,
    async slice(start, end) {
      const stop = Math.min(end, blob.size);
      return { value: sized(Buffer.from(await blob.slice(start, stop).arrayBuffer())), done: stop >= blob.size };
    },
    close: () => undefined,
  };
}

/** Opens paths and Blobs itself (tus-js-client's Node reader knows neither); the rest goes to tus-js-client's. */
function readerClosingAtEnd(): FileReader & { closeAll(): void } {
  const opened: FileSource[] = [];
  return {
    async openFile(input: unknown, chunkSize: number) {
      const source =
        input instanceof FilePath ? await fileSource(input) : input instanceof Blob ? blobSource(input) : await defaultOptions.fileReader.openFile(input, chunkSize);
      opened.push(source);
      return source;
    },
    // tus-js-client leaves a source open after an error or an abort (to resume): the upload call closes it.
    closeAll: () => opened.splice(0).forEach((source) => source.close()),
  };
}

/** The SDK's error for a failed tus request: the server's problem (with its stable code), or `io_error`. */
function uploadError(error: unknown, baseUrl: string): ReamError {
  const response = error instanceof DetailedError ? error.originalResponse : null;
  if (response) return errorFromAnswer(response.getStatus(), '', response.getHeader('content-type') ?? '', response.getBody(), response.getHeader('retry-after'));
  const cause = error instanceof DetailedError && error.causingError ? error.causingError : error;
  if (cause instanceof ReamError) return cause;
  // Socket errors (ECONNREFUSED, ECONNRESET, ENOTFOUND, …) mean the server was out of reach.
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return unreachable(baseUrl, cause);
  return ReamError.nonRetryable('io_error', `upload failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/** A slice as tus-js-client's Node HTTP stack sends it: a Buffer that carries its `size`. */
function sized(buffer: Buffer): Buffer & { size: number } {
  return Object.assign(buffer, { size: buffer.length });
}

/** Runs a tus upload of `source` to its end; resolves with the upload id the server gave it. */
export async function tusUpload(source: UploadSource, options: UploadOptions, target: TusTarget): Promise<string> {
  const { signal } = options;
  signal?.throwIfAborted();
  const prepared = await prepare(source, options);
  if (prepared.size === undefined && !(prepared.input instanceof Readable)) throw invalid('the upload has no size');
  const credentials = createHash('sha256').update(target.headers.authorization ?? '').digest('hex').slice(0, 16);
  const fingerprint = prepared.identity === undefined ? undefined : `ream:${prepared.identity}:${target.endpoint}:${credentials}`;
  const reader = readerClosingAtEnd();
  const chunkSize = options.chunkSizeBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw invalid('chunkSizeBytes must be a positive integer');

  try {
    return await runTus(
      // tus-js-client hands this to our reader as is; its typings only know the browser's inputs.
      prepared.input as unknown as Buffer,
      {
        endpoint: target.endpoint,
        headers: target.headers,
        chunkSize,
        retryDelays: options.retryDelays ?? DEFAULT_RETRY_DELAYS,
        metadata: { filename: prepared.name, ...(prepared.sha256 === undefined ? {} : { sha256: prepared.sha256 }) },
        ...(prepared.size === undefined ? { uploadLengthDeferred: true } : { uploadSize: prepared.size }),
        fileReader: reader,
        urlStorage: target.urlStorage,
        fingerprint: () => Promise.resolve(fingerprint ?? ''),
        storeFingerprintForResuming: fingerprint !== undefined,
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => options.onProgress?.(sent, prepared.size === undefined ? null : total),
      },
      { signal, resume: fingerprint !== undefined, toError: (error) => uploadError(error, target.baseUrl) },
    );
  } finally {
    reader.closeAll();
  }
}
