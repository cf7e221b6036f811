import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ReamError } from '../errors.ts';
import type { BlobInfo, BlobStore, ByteRange, PutOptions } from './port.ts';
import { s3ClientConfig, type S3Location } from './s3-client.ts';
import { isS3Missing, s3Error } from './s3-errors.ts';
import { checkSha256 } from './sha256.ts';
import { checkPutOptions, consuming, hashing, type PutSource } from './put-input.ts';

export interface S3BlobStoreOptions extends S3Location {
  /** Key prefix of blobs: a blob lives at `<prefix><sha256>`, a put in progress under `<prefix>tmp/`. Default 'blobs/'. */
  prefix?: string;
  /**
   * Bytes per multipart part, at least 5 MiB (S3's minimum). A put holds at most
   * `partSizeBytes × queueSize` bytes in memory. Default 8 MiB.
   */
  partSizeBytes?: number;
  /** Parts uploaded at once per put. Default 2. */
  queueSize?: number;
  /** An S3 client to use instead of one built from the location (its configuration wins). */
  client?: S3Client;
}

export interface OpenS3BlobStoreOptions extends S3BlobStoreOptions {
  /** Create the bucket when it does not exist (tests, development). Default false: a missing bucket is an error. */
  createBucket?: boolean;
}

const MiB = 1024 * 1024;
/** CopyObject copies at most 5 GB in one request (S3's limit); see `put`. */
const MAX_SINGLE_COPY_BYTES = 5 * 1024 * MiB;

/**
 * Blobs in an S3 bucket (AWS, MinIO, R2, …), addressed by sha256. A put streams through a hash
 * into a multipart upload at a temporary key — the address is unknown until the last byte — and
 * only then is copied server-side to `<prefix><sha256>` (or dropped, when that blob exists), so a
 * reader never sees a partial or unverified blob.
 *
 * Limit: the server-side copy is a single CopyObject, so one blob can be at most 5 GB; a larger
 * put fails with `file_too_large` and stores nothing.
 */
export class S3BlobStore implements BlobStore {
  readonly name = 's3';
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'blobs/';
    this.#client = options.client ?? new S3Client(s3ClientConfig(options));
    this.#ownsClient = options.client === undefined;
    this.#partSize = options.partSizeBytes ?? 8 * MiB;
    this.#queueSize = options.queueSize ?? 2;
    if (!(Number.isSafeInteger(this.#partSize) && this.#partSize >= 5 * MiB)) {
      throw ReamError.nonRetryable('validation_failed', 'partSizeBytes must be an integer of at least 5 MiB (S3\'s minimum part size)');
    }
  }

  /** A store whose bucket is known to exist (checked with HeadBucket), or a clear error now rather than on the first put. */
  static async open(options: OpenS3BlobStoreOptions): Promise<S3BlobStore> {
    const store = new S3BlobStore(options);
    await store.#checkBucket(options.createBucket ?? false);
    return store;
  }

  async #checkBucket(create: boolean): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isS3Missing(error) && (error as { name?: unknown }).name !== 'NoSuchBucket') throw s3Error(error, 'HeadBucket', `bucket "${this.bucket}"`);
    }
    if (!create) throw ReamError.nonRetryable('io_error', `S3 bucket "${this.bucket}" does not exist; create it or pass createBucket: true`);
    await this.#try('CreateBucket', `bucket "${this.bucket}"`, (s3) => s3.send(new CreateBucketCommand({ Bucket: this.bucket })));
  }

  /** Consumes `source`; on failure a Readable source is destroyed and the temporary object removed. */
  put(source: PutSource, options: PutOptions = {}): Promise<BlobInfo> {
    return consuming(source, () => this.#put(source, options));
  }

  async #put(source: PutSource, options: PutOptions): Promise<BlobInfo> {
    const { expected, maxBytes } = checkPutOptions(options);
    const tempKey = `${this.prefix}tmp/${randomUUID()}`;
    const { sha256, size } = await this.#uploadTemp(source, tempKey, maxBytes);
    try {
      // "fails with checksum_mismatch (and stores nothing) if the content differs"
      if (expected !== undefined && sha256 !== expected) {
        throw ReamError.nonRetryable('checksum_mismatch', 'the content does not match the declared sha256', { details: { expected, actual: sha256 } });
      }
      const place = async (): Promise<void> => {
        if ((await this.stat(sha256))?.size === size) return;
        if (size > MAX_SINGLE_COPY_BYTES) {
          throw ReamError.nonRetryable('file_too_large', `blobs over ${MAX_SINGLE_COPY_BYTES} bytes cannot be stored in S3 by this store`, { details: { size } });
        }
        // Two puts of the same content may both copy: they write identical bytes.
        try {
          await this.#try('CopyObject', this.#where(sha256), (s3) => s3.send(new CopyObjectCommand({
            Bucket: this.bucket, Key: this.#key(sha256), CopySource: `${this.bucket}/${tempKey.split('/').map(encodeURIComponent).join('/')}`,
          })));
        } catch (error) {
          // Some S3-compatible servers fail one of two concurrent writes of a key (s3rver answers
          // 500): if the other one placed the same bytes, this put is done too.
          if ((await this.stat(sha256).catch(() => undefined))?.size !== size) throw error;
        }
      };
      await (options.publish ?? ((_blob, placeNow) => placeNow()))({ sha256, size }, place);
      return { sha256, size };
    } finally {
      await this.#dropTemp(tempKey);
    }
  }

  /** Streams `source` through a hash into a multipart upload at `tempKey`; stores nothing if anything fails. */
  async #uploadTemp(source: PutSource, tempKey: string, maxBytes: number | undefined): Promise<BlobInfo> {
    const hashed = hashing(source, maxBytes);
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.bucket, Key: tempKey, Body: Readable.from(hashed.chunks, { objectMode: false }) },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // On failure lib-storage aborts the multipart upload itself (AbortMultipartUpload).
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // A small body goes up in one PutObject that may have landed before the failure surfaced.
      await this.#dropTemp(tempKey);
      // The source's own error (file_too_large, a dropped connection) says more than the upload's.
      const sourceError = hashed.failure();
      if (sourceError !== undefined) throw sourceError instanceof Error ? sourceError : new Error('the source failed', { cause: sourceError });
      throw s3Error(error, 'upload', `"${tempKey}" in bucket "${this.bucket}"`);
    }
    return hashed.info();
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const address = checkSha256(sha256);
    let header: string | undefined;
    if (range) {
      const { start, end } = range;
      // A range as in HTTP: [start, end] inclusive, starting inside the blob (S3 answers 416 past the end).
      if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
        throw ReamError.nonRetryable('validation_failed', `range ${start}-${end ?? ''} is not a valid byte range`);
      }
      header = `bytes=${start}-${end ?? ''}`;
    }
    const reply = await this.#try('GetObject', this.#where(address), (s3) => s3.send(new GetObjectCommand({
      Bucket: this.bucket, Key: this.#key(address), ...(header === undefined ? {} : { Range: header }),
    })));
    const body = reply.Body;
    if (body === undefined) return Readable.from([]);
    // In Node the SDK's body is an http.IncomingMessage: a Readable.
    return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    const address = checkSha256(sha256);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(address) }));
      return { sha256: address, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isS3Missing(error)) return undefined;
      throw s3Error(error, 'HeadObject', this.#where(address));
    }
  }

  /**
   * True if the blob was there. S3's DeleteObject does not say whether it deleted anything, so
   * this asks first: two concurrent deletes of one blob may both answer true.
   */
  async delete(sha256: string): Promise<boolean> {
    const address = checkSha256(sha256);
    if (!(await this.stat(address))) return false;
    await this.#try('DeleteObject', this.#where(address), (s3) => s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(address) })));
    return true;
  }

  /** Objects in S3 have no local file: callers stream (or make a local copy, see local-copy.ts). */
  localPath(sha256: string): undefined {
    checkSha256(sha256);
    return undefined;
  }

  /** Ends the client's sockets if this store made the client. */
  close(): void {
    if (this.#ownsClient) this.#client.destroy();
  }

  /**
   * Removes a put's temporary object. Best effort: the put's own outcome matters more than a
   * leftover under `<prefix>tmp/` (which a bucket lifecycle rule can expire).
   */
  async #dropTemp(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      process.emitWarning(`ream: could not remove the temporary object ${s3Error(error, 'DeleteObject', `"${key}" in bucket "${this.bucket}"`).message}`);
    }
  }

  /** Runs one S3 call, turning its failure into a ReamError that names `operation` and `where`. */
  async #try<T>(operation: string, where: string, call: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await call(this.#client);
    } catch (error) {
      throw s3Error(error, operation, where);
    }
  }

  #key(sha256: string): string {
    return `${this.prefix}${sha256}`;
  }

  #where(sha256: string): string {
    return `blob ${sha256} in bucket "${this.bucket}"`;
  }
}
