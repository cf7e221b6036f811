import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { ReamError } from '../errors.ts';
import type { BlobInfo, BlobStore, ByteRange, PutOptions } from './port.ts';
import { checkSha256 } from './sha256.ts';
import { checkPutOptions, consuming, hashing, type PutSource } from './put-input.ts';

export interface FsBlobStoreOptions {
  /**
   * fsync each blob's bytes, and its folder after the rename, before `put` resolves: a blob the
   * store has acknowledged survives a power cut. Default true; turning it off makes puts of
   * small files several times faster and is only safe for scratch data.
   */
  fsync?: boolean;
}

/**
 * The embedded blob store: a folder of files named by their sha256, fanned out as
 * `ab/cd/<sha256>` so no folder grows huge. A put streams into `tmp/` (same file system, so the
 * final rename is atomic) while hashing, and only a complete, verified file is renamed to its
 * address: readers never see a partial blob, and two puts of the same content race harmlessly
 * (both renames carry identical bytes).
 */
export class FsBlobStore implements BlobStore {
  readonly name = 'fs';
  readonly root: string;
  readonly #tmp: string;
  readonly #fsync: boolean;

  constructor(root: string, options: FsBlobStoreOptions = {}) {
    this.root = resolve(root);
    this.#tmp = join(this.root, 'tmp');
    this.#fsync = options.fsync ?? true;
  }

  /** Consumes `source`; on failure a Readable source is destroyed (its file or socket released). */
  put(source: PutSource, options: PutOptions = {}): Promise<BlobInfo> {
    return consuming(source, () => this.#put(source, options));
  }

  async #put(source: PutSource, options: PutOptions): Promise<BlobInfo> {
    const { expected, maxBytes } = checkPutOptions(options);
    await mkdir(this.#tmp, { recursive: true });
    const tempPath = join(this.#tmp, `${randomUUID()}.part`);
    let stored = false;
    try {
      const { sha256, size } = await this.#writeTemp(source, tempPath, maxBytes);
      // "fails with checksum_mismatch (and stores nothing) if the content differs"
      if (expected !== undefined && sha256 !== expected) {
        throw ReamError.nonRetryable('checksum_mismatch', 'the content does not match the declared sha256', {
          details: { expected, actual: sha256 },
        });
      }
      const finalPath = this.#path(sha256);
      const place = async (): Promise<void> => {
        if (stored || (await sizeOf(finalPath)) === size) return;
        await moveInto(tempPath, finalPath);
        stored = true;
        if (this.#fsync) await syncFolder(dirname(finalPath));
      };
      await (options.publish ?? publishNow)({ sha256, size }, place);
      return { sha256, size };
    } finally {
      if (!stored) await rm(tempPath, { force: true });
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = this.#path(checkSha256(sha256));
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw notFoundOr(error, sha256);
    }
    try {
      if (!range) return handle.createReadStream();
      const { size } = await handle.stat();
      const end = range.end ?? size - 1;
      // A range as in HTTP: [start, end] inclusive, starting inside the blob.
      if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(end) || range.start < 0 || end < range.start || range.start >= size) {
        throw ReamError.nonRetryable('validation_failed', `range ${range.start}-${range.end ?? ''} is outside the blob (${size} bytes)`, {
          details: { size },
        });
      }
      return handle.createReadStream({ start: range.start, end: Math.min(end, size - 1) });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    const address = checkSha256(sha256);
    const size = await sizeOf(this.#path(address));
    return size === undefined ? undefined : { sha256: address, size };
  }

  /** Deletes the blob, and its `ab/cd` folders once they are empty: deleting all blobs leaves no folder tree behind. */
  async delete(sha256: string): Promise<boolean> {
    const path = this.#path(checkSha256(sha256));
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    await removeIfEmpty(dirname(path));
    await removeIfEmpty(dirname(dirname(path)));
    return true;
  }

  /**
   * Removes what no blob needs: empty `ab/cd` and `ab` folders, and the temp files of puts that
   * never finished (a killed process). Only while no put runs: the caller holds the folder alone.
   */
  async tidy(): Promise<{ emptyFolders: number; tempFiles: number }> {
    let emptyFolders = 0;
    let tempFiles = 0;
    for (const entry of await entriesOf(this.#tmp)) {
      await rm(join(this.#tmp, entry.name), { force: true, recursive: true });
      tempFiles++;
    }
    for (const top of await entriesOf(this.root)) {
      if (!top.isDirectory() || !/^[0-9a-f]{2}$/.test(top.name)) continue;
      const folder = join(this.root, top.name);
      for (const sub of await entriesOf(folder)) {
        if (sub.isDirectory() && (await entriesOf(join(folder, sub.name))).length === 0 && (await removed(join(folder, sub.name)))) emptyFolders++;
      }
      if ((await entriesOf(folder)).length === 0 && (await removed(folder))) emptyFolders++;
    }
    return { emptyFolders, tempFiles };
  }

  /** The blob's file (it exists only if the blob does). */
  localPath(sha256: string): string {
    return this.#path(checkSha256(sha256));
  }

  /** Streams `source` into `tempPath`, hashing as it goes; stops reading past `maxBytes`. */
  async #writeTemp(source: PutSource, tempPath: string, maxBytes: number | undefined): Promise<BlobInfo> {
    const hashed = hashing(source, maxBytes);
    const file = await open(tempPath, 'wx');
    try {
      for await (const chunk of hashed.chunks) await writeAll(file, chunk);
      if (this.#fsync) await file.sync();
    } finally {
      await file.close();
    }
    return hashed.info();
  }

  #path(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }
}

function publishNow(_blob: BlobInfo, place: () => Promise<void>): Promise<void> {
  return place();
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Renames the temp file to its address, making its folders. A delete of the folders' last other
 * blob may remove them meanwhile (see {@link FsBlobStore.delete}; `ab/` between the making of
 * `ab/` and `ab/cd/`, or `ab/cd/` before the rename): then they are made again, a few times at most.
 */
async function moveInto(tempPath: string, finalPath: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dirname(finalPath), { recursive: true });
      await rename(tempPath, finalPath);
      return;
    } catch (error) {
      if (!isMissing(error) || attempt >= 5) throw error;
      await stat(tempPath); // the temp file itself gone: that ENOENT is no race, and is thrown
    }
  }
}

/** A folder's entries; none when it does not exist. */
async function entriesOf(folder: string): Promise<Dirent[]> {
  try {
    return await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** Removes an empty folder; answers whether it did. */
async function removed(folder: string): Promise<boolean> {
  try {
    await rmdir(folder);
    return true;
  } catch {
    return false;
  }
}

/** Removes `folder` if it is empty; a folder still holding something (or gone already) is left as it is. */
async function removeIfEmpty(folder: string): Promise<void> {
  try {
    await rmdir(folder);
  } catch {
    // ENOTEMPTY (other blobs), ENOENT (removed by another delete), EEXIST: nothing to do.
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Makes a rename durable: the new directory entry is on disk once its folder is synced. */
async function syncFolder(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or sync a folder; the data itself was synced.
  } finally {
    await handle?.close();
  }
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}

function notFoundOr(error: unknown, sha256: string): unknown {
  return isMissing(error) ? ReamError.nonRetryable('not_found', `no blob ${sha256}`, { cause: error }) : error;
}
