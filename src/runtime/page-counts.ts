// Pages of stored documents counted before a job is submitted (`POST /v1/jobs/estimate`), as the
// job's inspection would count them: the format registry's `inspect`, which reads in the thread
// pool (never on the event loop). Counts are kept per content hash and read options in a small LRU,
// so asking again as a user changes options costs nothing, and a submit right after an estimate
// reserves the pages the estimate showed.
import { createHash } from 'node:crypto';
import type { BlobFiles } from '../blobs/local-copy.ts';
import { ReamError, toReamError, type ErrorCode } from '../errors.ts';
import type { Formats } from '../formats/registry.ts';
import type { Pipeline } from '../pipeline/types.ts';
import type { DocumentRecord } from '../store/port.ts';

export interface PageCounterPorts {
  formats: Formats;
  /** Local files of the blobs (made on first use: most processes never estimate). */
  blobFiles: () => BlobFiles;
}

export interface PageCounterSettings {
  /** Counts kept (content hash × read options). Default 2,000: a few hundred kB at most. */
  cacheSize?: number;
  /** Longest one `count` call reads, in ms; what is left after it is answered uncounted. Default 5,000. */
  budgetMs?: number;
  /** Documents read at once (each in a pool thread). Default 2. */
  concurrency?: number;
}

/** A document that could not be counted, and why (it is reserved as one page). */
export interface UncountedDocument {
  documentId: string;
  code: ErrorCode;
  message: string;
}

export interface PageCountResult {
  /** Pages of each counted document, by id. */
  counted: Map<string, number>;
  /** Data rows among `counted` (tables read as rows: the `rows` pipeline). */
  rows: number;
  notCounted: UncountedDocument[];
}

interface CachedCount {
  pages: number;
  /** The document is a table read row by row: its pages are data rows. */
  rows: boolean;
}

/**
 * The pages a job of `docs` reserves, given the counts known: each document's count, one page
 * for a document not counted. The estimate and the submit both use it, so they always agree.
 */
export function pagesToReserve(docs: readonly DocumentRecord[], counted: ReadonlyMap<string, number>): number {
  return docs.reduce((sum, doc) => sum + (counted.get(doc.id) ?? 1), 0);
}

/**
 * What changes a count besides the bytes: the sheet read, how a table becomes pages, and the
 * password (an encrypted PDF counted with the right one must still be refused with a wrong one).
 * The password is in the key as a hash, never as itself.
 */
function readKey(sha256: string, pipeline: Pipeline): string {
  const read = pipeline.read ?? {};
  const password = read.pdfPassword === undefined ? '' : createHash('sha256').update(read.pdfPassword).digest('base64url');
  return `${sha256}|${read.tablePages ?? ''}|${read.sheet ?? ''}|${password}`;
}

export class PageCounter {
  readonly #ports: PageCounterPorts;
  readonly #cacheSize: number;
  readonly #budgetMs: number;
  readonly #concurrency: number;
  /** Insertion order is recency: a hit is moved to the end, the first entry is evicted. */
  readonly #cache = new Map<string, CachedCount>();

  constructor(ports: PageCounterPorts, settings: PageCounterSettings = {}) {
    this.#ports = ports;
    this.#cacheSize = settings.cacheSize ?? 2_000;
    this.#budgetMs = settings.budgetMs ?? 5_000;
    this.#concurrency = settings.concurrency ?? 2;
  }

  /** The counts already known (no reading): what a submit reserves for the documents counted by an estimate. */
  known(docs: readonly DocumentRecord[], pipeline: Pipeline): Map<string, number> {
    const known = new Map<string, number>();
    for (const doc of docs) {
      const hit = this.#get(readKey(doc.sha256, pipeline));
      if (hit !== undefined) known.set(doc.id, hit.pages);
    }
    return known;
  }

  /**
   * The pages a job of `docs` is reserved at: each document's known count, one page for the
   * others (a document listed twice counts twice, as the job reads it twice).
   */
  reservedPages(docs: readonly DocumentRecord[], pipeline: Pipeline): number {
    return pagesToReserve(docs, this.known(docs, pipeline));
  }

  /**
   * Counts the pages of `docs` as `pipeline` would read them, within the time budget: documents
   * not read when it runs out (or when `signal` aborts) are answered as not counted (`timeout`).
   */
  async count(docs: readonly DocumentRecord[], pipeline: Pipeline, signal?: AbortSignal): Promise<PageCountResult> {
    const result: PageCountResult = { counted: new Map(), rows: 0, notCounted: [] };
    const budget = AbortSignal.timeout(this.#budgetMs);
    const stop = signal === undefined ? budget : AbortSignal.any([signal, budget]);
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < docs.length) {
        const doc = docs[next++] as DocumentRecord;
        if (stop.aborted) {
          result.notCounted.push(outOfTime(doc.id, this.#budgetMs));
          continue;
        }
        try {
          const count = await this.#countOne(doc, pipeline, stop);
          result.counted.set(doc.id, count.pages);
          if (count.rows) result.rows += count.pages;
        } catch (error) {
          const failure = stop.aborted ? outOfTime(doc.id, this.#budgetMs) : toReamError(error);
          result.notCounted.push({ documentId: doc.id, code: failure.code, message: failure.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, docs.length) }, reader));
    // In the order asked, whatever order the readers finished in.
    const order = new Map(docs.map((doc, index) => [doc.id, index]));
    result.notCounted.sort((a, b) => (order.get(a.documentId) ?? 0) - (order.get(b.documentId) ?? 0));
    return result;
  }

  async #countOne(doc: DocumentRecord, pipeline: Pipeline, signal: AbortSignal): Promise<CachedCount> {
    const key = readKey(doc.sha256, pipeline);
    const hit = this.#get(key);
    if (hit !== undefined) return hit;
    const file = await this.#ports.blobFiles().acquire(doc.sha256);
    try {
      signal.throwIfAborted();
      const format = await this.#ports.formats.identify(file.path, doc.name, pipeline.limits);
      const inspection = await format.inspect(file.path, pipeline.limits, signal, { ...pipeline.read, sha256: doc.sha256 });
      const count = { pages: inspection.pageCount, rows: format.outline !== undefined && pipeline.read?.tablePages === 'rows' };
      this.#put(key, count);
      return count;
    } finally {
      file.release();
    }
  }

  #get(key: string): CachedCount | undefined {
    const hit = this.#cache.get(key);
    if (hit === undefined) return undefined;
    this.#cache.delete(key);
    this.#cache.set(key, hit);
    return hit;
  }

  #put(key: string, count: CachedCount): void {
    this.#cache.delete(key);
    this.#cache.set(key, count);
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
  }
}

function outOfTime(documentId: string, budgetMs: number): UncountedDocument {
  const error = new ReamError('timeout', `not counted within the estimate's ${budgetMs} ms: reserved as one page until it is read`);
  return { documentId, code: error.code, message: error.message };
}
