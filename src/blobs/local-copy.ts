import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReamError } from '../errors.ts';
import type { BlobStore } from './port.ts';
import { checkSha256 } from './sha256.ts';

export interface BlobFilesOptions {
  /** Folder of the copies, `<dir>/<sha256>` (downloads in progress under `<dir>/tmp/`). Use one folder per process. */
  dir: string;
  /**
   * Most bytes of copies kept, in bytes. Least recently used copies not in use are deleted to stay
   * under it; copies in use are never deleted, so the folder may briefly hold more. Default 2 GiB.
   */
  maxBytes?: number;
}

/** A local file holding a blob, kept until `release()` (idempotent). */
export interface BlobFile {
  path: string;
  release(): void;
}

interface Copy {
  size: number;
  /** Order of last use (a counter, not a clock: two uses in one millisecond still order). */
  lastUsed: number;
  /** Holders that have not released it yet. */
  pins: number;
}

const SHA256_NAME = /^[0-9a-f]{64}$/;
/** Leftover downloads older than this are from a crash, not from a download in progress. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Local files for blobs, for code that reads files (parsers in worker threads). A store with
 * local files (FsBlobStore) answers directly; for any other (S3) a copy is downloaded once into
 * `dir`, verified by sha256, and reused until it is evicted. Concurrent requests for one blob
 * share one download.
 */
export class BlobFiles {
  readonly #blobs: BlobStore;
  readonly #dir: string;
  readonly #tmp: string;
  readonly #maxBytes: number;
  readonly #copies = new Map<string, Copy>();
  readonly #downloads = new Map<string, Promise<void>>();
  #totalBytes = 0;
  #clock = 0;
  #ready: Promise<void> | undefined;

  constructor(blobs: BlobStore, options: BlobFilesOptions) {
    this.#blobs = blobs;
    this.#dir = resolve(options.dir);
    this.#tmp = join(this.#dir, 'tmp');
    this.#maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
    if (!(Number.isSafeInteger(this.#maxBytes) && this.#maxBytes >= 0)) throw ReamError.nonRetryable('validation_failed', 'maxBytes must be a non-negative integer');
  }

  /** Bytes of copies held in the folder now. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /**
   * A path holding the blob. The copy is not pinned: it is the most recently used, so it is
   * evicted last, but a caller that reads it long after should `acquire` instead.
   */
  async pathOf(sha256: string): Promise<string> {
    const file = await this.acquire(sha256);
    file.release();
    return file.path;
  }

  /** A path holding the blob, never evicted before `release()`. A missing blob is `not_found`. */
  async acquire(sha256: string): Promise<BlobFile> {
    const address = checkSha256(sha256);
    const local = this.#blobs.localPath(address);
    if (local !== undefined) return { path: local, release: () => undefined };
    await (this.#ready ??= this.#index());
    const path = join(this.#dir, address);
    for (;;) {
      const known = this.#copies.get(address);
      if (known && !(await exists(path))) this.#forget(address); // removed behind our back
      const copy = this.#copies.get(address);
      if (copy) {
        copy.pins += 1;
        copy.lastUsed = ++this.#clock;
        let held = true;
        return {
          path,
          release: () => {
            if (held) copy.pins -= 1;
            held = false;
          },
        };
      }
      // Another caller's download or eviction may run between the await and the next check: loop.
      await this.#download(address);
    }
  }

  /** One download per blob at a time; every caller for it waits on the same promise. */
  #download(address: string): Promise<void> {
    let download = this.#downloads.get(address);
    if (!download) {
      download = this.#fetch(address).finally(() => this.#downloads.delete(address));
      this.#downloads.set(address, download);
    }
    return download;
  }

  async #fetch(address: string): Promise<void> {
    const temp = join(this.#tmp, `${randomUUID()}.part`);
    try {
      const hash = createHash('sha256');
      let size = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.byteLength;
          done(null, chunk);
        },
      });
      await pipeline(await this.#blobs.get(address), hashing, createWriteStream(temp, { flags: 'wx' }));
      const actual = hash.digest('hex');
      if (actual !== address) {
        throw ReamError.retryable('io_error', `the local copy of blob ${address} does not match its sha256 (got ${actual})`, { details: { actual } });
      }
      await rename(temp, join(this.#dir, address));
      this.#remember(address, size);
      await this.#evict(address);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Deletes least recently used copies nobody holds until the total fits (`keep` stays). */
  async #evict(keep: string): Promise<void> {
    while (this.#totalBytes > this.#maxBytes) {
      let victim: string | undefined;
      let oldest = Infinity;
      for (const [address, copy] of this.#copies) {
        if (address !== keep && copy.pins === 0 && copy.lastUsed < oldest) [victim, oldest] = [address, copy.lastUsed];
      }
      if (victim === undefined) return; // everything left is in use
      this.#forget(victim);
      await rm(join(this.#dir, victim), { force: true });
    }
  }

  /** Adopts the copies a previous run left (oldest first in the eviction order) and drops stale downloads. */
  async #index(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
    const found: { address: string; size: number; mtimeMs: number }[] = [];
    for (const name of await readdir(this.#dir)) {
      if (!SHA256_NAME.test(name)) continue;
      const info = await stat(join(this.#dir, name)).catch(() => undefined);
      if (info?.isFile()) found.push({ address: name, size: info.size, mtimeMs: info.mtimeMs });
    }
    for (const { address, size } of found.sort((a, b) => a.mtimeMs - b.mtimeMs)) this.#remember(address, size);
    for (const name of await readdir(this.#tmp)) {
      const info = await stat(join(this.#tmp, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(join(this.#tmp, name), { force: true });
    }
  }

  #remember(address: string, size: number): void {
    this.#forget(address);
    this.#copies.set(address, { size, lastUsed: ++this.#clock, pins: 0 });
    this.#totalBytes += size;
  }

  #forget(address: string): void {
    const copy = this.#copies.get(address);
    if (!copy) return;
    this.#copies.delete(address);
    this.#totalBytes -= copy.size;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
