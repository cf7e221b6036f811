import type { Readable } from 'node:stream';

export interface BlobInfo {
  /** Lower-case hex sha256 of the content: the blob's address. */
  sha256: string;
  size: number;
}

export interface PutOptions {
  /** When given, the put fails with `checksum_mismatch` (and stores nothing) if the content differs. */
  expectedSha256?: string;
  /** Fails with `file_too_large` (and stores nothing) once more than this many bytes arrive. */
  maxBytes?: number;
  /**
   * Wraps the last step, once the content is verified: `place` puts the blob at its address
   * unless it is there already. A caller runs it under a lock on the content, with whatever must
   * happen together (recording a document), so a concurrent delete of that blob comes either
   * before (and `place` puts it back) or after (and sees the document). Default: `place()`.
   */
  publish?: (blob: BlobInfo, place: () => Promise<void>) => Promise<void>;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (as in HTTP Range). Default: the end. */
  end?: number;
}

/**
 * The blobs port: content-addressed bytes (DESIGN.md §5). Streams in and out, never buffering a
 * whole blob. Putting the same content twice stores it once. `get` of a missing blob throws
 * `ReamError('not_found')`.
 */
export interface BlobStore {
  readonly name: string;
  put(source: Readable | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<BlobInfo>;
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  stat(sha256: string): Promise<BlobInfo | undefined>;
  delete(sha256: string): Promise<boolean>;
  /**
   * Capability: a local file path holding the blob, so worker threads can read it without a
   * copy. Adapters without local files (S3) return `undefined`, and callers stream instead.
   */
  localPath(sha256: string): string | undefined;
}
