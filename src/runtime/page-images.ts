// Pages drawn for viewing (the console's document view, `GET /v1/documents/:id/pages/:page/image`):
// rendered in the thread pool like OCR's pages, and the latest kept in memory, since a reader
// pages back and forth through the same few.
import type { BlobFiles } from '../blobs/local-copy.ts';
import { ReamError } from '../errors.ts';
import type { Formats } from '../formats/registry.ts';
import type { DocumentRecord } from '../store/port.ts';

export const PAGE_IMAGE_DPI = { default: 96, min: 36, max: 200 } as const;
/** Rendered pages kept, by document content, page and resolution (about 100 kB each at 96 dpi). */
const CACHE_BYTES = 32 * 1024 * 1024;

export interface PageImagePorts {
  formats: Formats;
  /** Local files of the blobs, shared with the other readers of stored documents. */
  blobFiles: BlobFiles;
}

export class PageImages {
  readonly #ports: PageImagePorts;
  readonly #files: BlobFiles;
  /** Insertion order is recency: a hit is moved to the end, the oldest evicted first. */
  readonly #cache = new Map<string, Buffer>();
  #cachedBytes = 0;

  constructor(ports: PageImagePorts) {
    this.#ports = ports;
    this.#files = ports.blobFiles;
  }

  /**
   * The document's page as a PNG: `validation_failed` for a page it does not have or a dpi out of
   * {@link PAGE_IMAGE_DPI}, `unsupported_type` for a format without pages to draw (text, tables).
   */
  async render(doc: DocumentRecord, page: number, dpi: number = PAGE_IMAGE_DPI.default, signal?: AbortSignal): Promise<Buffer> {
    if (!Number.isInteger(dpi) || dpi < PAGE_IMAGE_DPI.min || dpi > PAGE_IMAGE_DPI.max) {
      throw ReamError.nonRetryable('validation_failed', `dpi must be an integer from ${PAGE_IMAGE_DPI.min} to ${PAGE_IMAGE_DPI.max}`);
    }
    if (!Number.isInteger(page) || page < 1) throw ReamError.nonRetryable('validation_failed', 'page must be a whole number from 1');
    const format = this.#ports.formats.byMediaType(doc.mediaType);
    if (format?.renderPage === undefined) throw ReamError.nonRetryable('unsupported_type', `${doc.mediaType} documents have no page images`);
    const key = `${doc.sha256}:${page}:${dpi}`;
    const cached = this.#cache.get(key);
    if (cached) {
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const file = await this.#files.acquire(doc.sha256);
    let png: Buffer;
    try {
      png = await format.renderPage(file.path, page, dpi, signal);
    } finally {
      file.release();
    }
    this.#remember(key, png);
    return png;
  }

  #remember(key: string, png: Buffer): void {
    if (png.length > CACHE_BYTES) return;
    this.#cache.set(key, png);
    this.#cachedBytes += png.length;
    for (const [oldest, image] of this.#cache) {
      if (this.#cachedBytes <= CACHE_BYTES) break;
      this.#cache.delete(oldest);
      this.#cachedBytes -= image.length;
    }
  }
}
