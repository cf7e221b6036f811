import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PreviousUpload, UrlStorage } from 'tus-js-client';

type Entries = Record<string, Omit<PreviousUpload, 'urlStorageKey'>>;

/** The file, inside the caller's folder, that remembers unfinished uploads. */
export const URL_STORAGE_FILE = 'ream-uploads.json';

/**
 * Where tus-js-client remembers the URL of each unfinished upload by the source's fingerprint,
 * so a later upload of the same source resumes instead of starting over. In memory, or — with a
 * folder — in a JSON file there (written whole to a temp file, then renamed, so a crash never
 * leaves half a file), which lets uploads resume across process restarts.
 */
export class ReamUrlStorage implements UrlStorage {
  readonly #path: string | undefined;
  #memory: Entries = {};
  /** Updates run one after another: each reads what the previous one wrote. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir?: string) {
    this.#path = dir === undefined ? undefined : join(dir, URL_STORAGE_FILE);
  }

  async #read(): Promise<Entries> {
    if (this.#path === undefined) return this.#memory;
    try {
      const value: unknown = JSON.parse(await readFile(this.#path, 'utf8'));
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Entries) : {};
    } catch (error) {
      // A missing or unreadable file only means nothing can be resumed.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return {};
      throw error;
    }
  }

  #update(change: (entries: Entries) => void): Promise<void> {
    const run = this.#queue.then(async () => {
      const entries = { ...(await this.#read()) };
      change(entries);
      if (this.#path === undefined) {
        this.#memory = entries;
        return;
      }
      await mkdir(dirname(this.#path), { recursive: true });
      const temp = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify(entries), { mode: 0o600 });
      await rename(temp, this.#path);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every change asked for so far is written (tus-js-client does not wait for its removals). */
  async idle(): Promise<void> {
    await this.#queue;
  }

  findAllUploads(): Promise<PreviousUpload[]> {
    return this.#find('tus::');
  }

  findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return this.#find(`tus::${fingerprint}::`);
  }

  async #find(prefix: string): Promise<PreviousUpload[]> {
    await this.#queue;
    return Object.entries(await this.#read())
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, upload]) => ({ ...upload, urlStorageKey: key }));
  }

  removeUpload(urlStorageKey: string): Promise<void> {
    return this.#update((entries) => {
      delete entries[urlStorageKey];
    });
  }

  async addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    const key = `tus::${fingerprint}::${randomBytes(6).toString('hex')}`;
    const { urlStorageKey: _unused, ...entry } = upload;
    await this.#update((entries) => {
      entries[key] = entry;
    });
    return key;
  }
}
