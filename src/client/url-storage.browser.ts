// The browser's adapter for url-storage.ts (the dashboard's Vite build swaps it in): unfinished
// uploads are remembered in the page's web storage by tus-js-client's own storage, so an upload
// cut short by a lost connection or a reload resumes when the same file is picked again.
import { defaultOptions, type PreviousUpload, type UrlStorage } from 'tus-js-client';

export class ReamUrlStorage implements UrlStorage {
  readonly #inner: UrlStorage = defaultOptions.urlStorage;

  /** The folder the Node adapter writes to; a browser has none, so it is ignored. */
  constructor(_dir?: string) {}

  /** Web storage is written at once: nothing is ever pending. */
  idle(): Promise<void> {
    return Promise.resolve();
  }

  findAllUploads(): Promise<PreviousUpload[]> {
    return this.#inner.findAllUploads();
  }

  findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return this.#inner.findUploadsByFingerprint(fingerprint);
  }

  removeUpload(urlStorageKey: string): Promise<void> {
    return this.#inner.removeUpload(urlStorageKey);
  }

  addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    return this.#inner.addUpload(fingerprint, upload);
  }
}
