import { mkdirSync } from 'node:fs';
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import type { Problem } from '../problem.ts';

/** What became of a finished tus upload: the stored document, or why it was refused. */
export interface UploadRecord {
  /** The tus upload id (server-generated hex; the only name that reaches the filesystem). */
  id: string;
  tenantId: string;
  status: 'stored' | 'failed';
  /** The name the client gave in `Upload-Metadata` (display only). */
  name: string;
  size: number;
  createdAt: number;
  documentId?: string;
  sha256?: string;
  mediaType?: string;
  error?: Problem;
}

/** tus ids made by @tus/server's default naming function: 16 random bytes in hex. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * Where finished uploads are remembered: files for one server (`UploadRecords`), a database table
 * shared by several server instances in distributed mode.
 */
export interface UploadRecordStore {
  get(id: string): Promise<UploadRecord | undefined>;
  put(record: UploadRecord): Promise<void>;
  /** True if there was one. */
  delete(id: string): Promise<boolean>;
  /** Drops records of refused uploads older than `before` (ms since the epoch); returns how many. */
  deleteFailedBefore(before: number): Promise<number>;
}

/** Upload records as small JSON files, one per upload id, written atomically (temp file + rename). */
export class UploadRecords implements UploadRecordStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  #path(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`not an upload id: ${id}`);
    return join(this.#dir, `${id}.json`);
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    if (!UPLOAD_ID.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(this.#path(id), 'utf8')) as UploadRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(record: UploadRecord): Promise<void> {
    const path = this.#path(record.id);
    await writeFile(`${path}.tmp`, JSON.stringify(record));
    await rename(`${path}.tmp`, path);
  }

  /** True if there was one. */
  async delete(id: string): Promise<boolean> {
    if (!(await this.get(id))) return false;
    await rm(this.#path(id), { force: true });
    return true;
  }

  /** Drops records of refused uploads older than `before` (ms since the epoch); returns how many. */
  async deleteFailedBefore(before: number): Promise<number> {
    let removed = 0;
    for (const file of await readdir(this.#dir)) {
      const id = file.endsWith('.json') ? file.slice(0, -5) : '';
      const record = await this.get(id).catch(() => undefined);
      if (record?.status === 'failed' && record.createdAt < before && (await this.delete(id))) removed++;
    }
    return removed;
  }
}

/** The upload records of each ream served over HTTP (set by the tus routes), for jobs to resolve upload ids. */
export const servedRecords = new WeakMap<Ream, UploadRecordStore>();

/** The stored document of a finished upload of `tenantId`, or `not_found` / `validation_failed`. */
export async function documentOfUpload(ream: Ream, tenantId: string, id: string): Promise<{ documentId: string; name: string }> {
  const record = await servedRecords.get(ream)?.get(id);
  if (!record || record.tenantId !== tenantId) throw ReamError.nonRetryable('not_found', `no upload ${id}`);
  if (record.status !== 'stored' || record.documentId === undefined) {
    throw ReamError.nonRetryable('validation_failed', `upload ${id} is not a stored document (${record.status})`);
  }
  return { documentId: record.documentId, name: record.name };
}
