// PDFium (Chrome's PDF engine, compiled to WebAssembly by @embedpdf/pdfium) inside a pool thread:
// the library loaded once per thread and reused, documents opened and kept (document-cache.ts),
// pages' text, metadata, and how PDFium's error numbers become ream's error codes. Never imported
// on the main thread, like pdfjs.ts.
//
// WebAssembly memory grows and never shrinks: `heldBytes` says how much this thread's instance
// holds, and pool-worker.ts retires a thread whose instance has grown past the pool's cap.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { init, type WrappedPdfiumModule } from '@embedpdf/pdfium';
import { ReamError } from '../../errors.ts';
import type { DocumentMetadata } from '../types.ts';
import { createDocumentCache, readInThread } from './document-cache.ts';
import { withoutOverprint } from './line-overprint.ts';
import { parsePdfDate } from './pdf-date.ts';

/** The Emscripten module has HEAPU8 at run time; the package's types leave it out. */
type Heap = WrappedPdfiumModule['pdfium'] & { HEAPU8: Uint8Array };

interface Library {
  api: WrappedPdfiumModule;
  heap: Heap;
}

let library: Promise<Library> | undefined;

/** This thread's PDFium, loaded on first use (≈ 80 ms, 4.6 MB of WebAssembly read from node_modules). */
function loadLibrary(): Promise<Library> {
  library ??= (async () => {
    const wasm = await readFile(createRequire(import.meta.url).resolve('@embedpdf/pdfium/pdfium.wasm'));
    const api = await init({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) });
    api.PDFiumExt_Init();
    return { api, heap: api.pdfium as Heap };
  })();
  return library;
}

/** Bytes of WebAssembly memory this thread's PDFium holds (0 before it is loaded). It never shrinks. */
export function heldBytes(): number {
  return broken ? Number.POSITIVE_INFINITY : (loadedHeap?.HEAPU8.length ?? 0);
}
let loadedHeap: Heap | undefined;

/** An open document: its handle and the copy of the file in PDFium's memory, which must outlive it. */
export interface PdfiumDocument {
  readonly lib: Library;
  readonly handle: number;
  readonly data: number;
  readonly pageCount: number;
}

const cache = createDocumentCache<PdfiumDocument>((doc) => {
  doc.lib.api.FPDF_CloseDocument(doc.handle);
  doc.lib.heap.wasmExports.free(doc.data);
});

/**
 * Runs `use` with the document at `path`, reusing this thread's open copy (see
 * document-cache.ts). When PDFium cannot open the file as a PDF (`invalid_pdf`; not a password
 * or I/O problem), `otherwise` runs instead: pdf.js reads some damaged files PDFium refuses.
 */
export async function withPdfiumDocument<T>(
  path: string, password: string | undefined, use: (doc: PdfiumDocument) => Promise<T> | T, otherwise: (error: ReamError) => Promise<T>,
): Promise<T> {
  let refused: ReamError | undefined;
  const open = (): Promise<PdfiumDocument> => openDocument(path, password).catch((error: unknown) => {
    if (error instanceof ReamError && error.code === 'invalid_pdf') refused = error;
    throw error;
  });
  try {
    return await cache.with(path, password ?? '', open, use);
  } catch (error) {
    if (refused !== undefined && error === refused) return otherwise(refused);
    throw error;
  }
}

/**
 * After a WebAssembly trap (out-of-bounds access, `unreachable`) the instance's state cannot be
 * trusted: this thread reads no more pages with it, and {@link heldBytes} reports it as over any
 * cap, so that the pool retires the thread after its current task.
 */
let broken = false;

// FPDF_GetLastError's values (fpdfview.h).
const FPDF_ERR_FILE = 2;
const FPDF_ERR_FORMAT = 3;
const FPDF_ERR_PASSWORD = 4;
const FPDF_ERR_SECURITY = 5;

async function openDocument(path: string, password: string | undefined): Promise<PdfiumDocument> {
  // Read synchronously: see readInThread in document-cache.ts.
  const bytes = readInThread(path, (file) => readFileSync(file));
  const lib = await loadLibrary();
  loadedHeap = lib.heap;
  const { api, heap } = lib;
  const data = heap.wasmExports.malloc(bytes.length);
  if (data === 0) throw ReamError.nonRetryable('resource_limit', `PDFium could not allocate ${bytes.length} bytes for the file`);
  heap.HEAPU8.set(bytes, data);
  // PDFium reads the file in place: `data` stays allocated until the document is closed.
  let handle = api.FPDF_LoadMemDocument(data, bytes.length, password ?? '');
  // The password a job gives for its protected files must not lock out its other files: one
  // whose user password is empty (owner-only restrictions) opens without it, as without the option.
  if (handle === 0 && password && api.FPDF_GetLastError() === FPDF_ERR_PASSWORD) {
    handle = api.FPDF_LoadMemDocument(data, bytes.length, '');
    if (handle === 0) {
      heap.wasmExports.free(data);
      throw openError(FPDF_ERR_PASSWORD, true);
    }
  }
  if (handle === 0) {
    const code = api.FPDF_GetLastError();
    heap.wasmExports.free(data);
    throw openError(code, password !== undefined);
  }
  return { lib, handle, data, pageCount: api.FPDF_GetPageCount(handle) };
}

/** Why PDFium would not open a file, as ream says it (the same codes as pdf.js's path: pdfjs.ts). */
function openError(code: number, withPassword: boolean): ReamError {
  if (code === FPDF_ERR_PASSWORD) {
    const message = withPassword ? 'the PDF is encrypted and the password given does not open it' : 'the PDF is encrypted with a password';
    return ReamError.nonRetryable('encrypted_pdf', message);
  }
  if (code === FPDF_ERR_SECURITY) return ReamError.nonRetryable('encrypted_pdf', 'the PDF is encrypted with a security handler PDFium does not support');
  const why = code === FPDF_ERR_FORMAT ? 'not a PDF or corrupted' : code === FPDF_ERR_FILE ? 'file not found or could not be opened' : `PDFium error ${code}`;
  return ReamError.nonRetryable('invalid_pdf', `not a readable PDF: ${why}`);
}

/** Reads a UTF-16LE string PDFium wrote at `ptr` (`bytes` long, its 2-byte terminator included). */
function utf16(heap: Heap, ptr: number, bytes: number): string {
  return bytes <= 2 ? '' : Buffer.from(heap.HEAPU8.buffer, ptr, bytes - 2).toString('utf16le');
}

export interface PdfiumPage {
  /** The page's text as PDFium orders it, in lines. */
  lines: string[];
  /** The share of the page images cover, 0–1 (see {@link imageCoverage}); only when the caller asked for it. */
  imageCoverage?: number;
}

/** What {@link readPdfiumPages} read: per page of the range, its text, or `undefined` for pdf.js to read. */
export interface PdfiumRange {
  /** The document's page count; `undefined` when PDFium refused the file (pdf.js reads all of it). */
  pageCount: number | undefined;
  /** Indexed like the range: `pages[0]` is page `from`. Pages past the end are left out. */
  pages: (PdfiumPage | undefined)[];
}

/**
 * Pages `[from, to)` (0-based) of the document at `path`, in one pass over one open copy: the
 * file is looked at (stat, see document-cache.ts) once per range, not once per page. A page
 * PDFium cannot load, or any page after a trap in this thread, is `undefined` (the caller then
 * asks pdf.js).
 *
 * After it failed to load a page, PDFium's page-tree cache can hand out the wrong page for the
 * next index (asked for 2, then 3, of a tree whose kids 2 and 3 are broken, it returns page 4
 * as page 3), so the document is closed then, and the next page is read from a fresh copy.
 */
export async function readPdfiumPages(
  path: string, password: string | undefined, from: number, to: number, wantsCoverage: (lines: readonly string[]) => boolean,
): Promise<PdfiumRange> {
  const pages: (PdfiumPage | undefined)[] = [];
  let pageCount: number | undefined;
  let index = from;
  while (index < to && !broken) {
    let failed = false;
    try {
      const opened = await withPdfiumDocument(path, password, (doc) => {
        const end = Math.min(to, doc.pageCount);
        // Synchronous from here to the end of the range or the first failed page: nothing else
        // runs on this thread meanwhile, so the open copy cannot be closed under it.
        for (; index < end && !failed; index++) {
          const page = pageLines(doc, index, wantsCoverage);
          pages.push(page);
          failed = page === undefined;
        }
        if (!failed) index = to;
        return doc.pageCount;
      }, () => Promise.resolve(undefined));
      if (opened === undefined) return { pageCount: undefined, pages: [] };
      pageCount = opened;
    } catch (error) {
      // WebAssembly.RuntimeError (a trap, or Emscripten's abort): by name, as the project's
      // TypeScript lib has no WebAssembly types. The page it trapped on goes to pdf.js.
      if (!(error instanceof Error && error.name === 'RuntimeError')) throw error;
      broken = true;
      pages.push(undefined);
      index++;
    } finally {
      if (failed) await cache.close();
    }
  }
  // Trapped before the page count was known (now, or in an earlier task): pdf.js reads it all.
  if (pageCount === undefined) return { pageCount: undefined, pages: [] };
  // Trapped after: the rest of the range goes to pdf.js.
  while (pages.length < Math.min(to, pageCount) - from) pages.push(undefined);
  return { pageCount, pages };
}

function pageLines(doc: PdfiumDocument, index: number, wantsCoverage: (lines: readonly string[]) => boolean): PdfiumPage | undefined {
  const { api } = doc.lib;
  const page = api.FPDF_LoadPage(doc.handle, index);
  if (page === 0) return undefined;
  try {
    const textPage = api.FPDFText_LoadPage(page);
    if (textPage === 0) return undefined;
    let text: string;
    try {
      text = boundedText(doc.lib, page, textPage);
    } finally {
      api.FPDFText_ClosePage(textPage);
    }
    // PDFium joins a word hyphenated across lines itself and marks the join with U+FFFE, a
    // noncharacter: dropping it gives the word whole, as pdftotext prints it.
    const lines = (text.includes('\uFFFE') ? text.replaceAll('\uFFFE', '') : text).split(/\r\n|\r|\n/).map(withoutOverprint);
    return wantsCoverage(lines) ? { lines, imageCoverage: imageCoverage(doc.lib, page) } : { lines };
  } finally {
    api.FPDF_ClosePage(page);
  }
}

/**
 * The page's text inside its visible box (media box ∩ crop box), as poppler and pdf.js print it:
 * text drawn outside it (a printer's timestamp in the trimmed margin) is not part of the page.
 */
function boundedText(lib: Library, page: number, textPage: number): string {
  const { api, heap } = lib;
  const box = heap.wasmExports.malloc(16);
  let left: number, top: number, right: number, bottom: number;
  try {
    if (!api.FPDF_GetPageBoundingBox(page, box)) return allText(lib, textPage);
    // FS_RECTF: left, top, right, bottom as 32-bit floats.
    [left = 0, top = 0, right = 0, bottom = 0] = new Float32Array(heap.HEAPU8.buffer, box, 4);
  } finally {
    heap.wasmExports.free(box);
  }
  // Each call collects the rectangle's text anew, so it is asked once, into a buffer sized from
  // the page's character count (asked first with no buffer, it would collect it twice: ~4% of a
  // PDFium read). Per character PDFium writes at most a surrogate pair and a line break before it.
  let capacity = Math.max(0, api.FPDFText_CountChars(textPage)) * BOUNDED_UNITS_PER_CHAR + 2;
  for (;;) {
    const buffer = heap.wasmExports.malloc(capacity * 2);
    try {
      const written = api.FPDFText_GetBoundedText(textPage, left, top, right, bottom, buffer, capacity);
      // A full buffer may have cut the text short: asked again with room to spare. The count
      // includes the terminator PDFium writes after the text.
      if (written < capacity) return written <= 1 ? '' : Buffer.from(heap.HEAPU8.buffer, buffer, written * 2).toString('utf16le').replace(/\0$/, '');
    } finally {
      heap.wasmExports.free(buffer);
    }
    capacity *= 2;
  }
}

/** UTF-16 units per character of a text page that FPDFText_GetBoundedText may write: 2 for the character, 2 for a line break. */
const BOUNDED_UNITS_PER_CHAR = 4;

function allText(lib: Library, textPage: number): string {
  const { api, heap } = lib;
  const count = api.FPDFText_CountChars(textPage);
  const buffer = heap.wasmExports.malloc((count + 1) * 2);
  try {
    const written = api.FPDFText_GetText(textPage, 0, count, buffer);
    return utf16(heap, buffer, written * 2);
  } finally {
    heap.wasmExports.free(buffer);
  }
}

/**
 * The share of the page's area that images cover, 0–1, as page-image.ts measures it for pdf.js:
 * every image object's bounding box, summed and capped at 1 (overlaps count twice, clipping is
 * ignored). An image inside a form XObject counts with the form's box, which holds it.
 */
function imageCoverage(lib: Library, page: number): number {
  const { api, heap } = lib;
  const area = api.FPDF_GetPageWidthF(page) * api.FPDF_GetPageHeightF(page);
  if (!(area > 0)) return 0;
  const box = heap.wasmExports.malloc(16);
  try {
    let covered = 0;
    const count = api.FPDFPage_CountObjects(page);
    for (let i = 0; i < count && covered < area; i++) {
      const object = api.FPDFPage_GetObject(page, i);
      if (!isOrHoldsImage(api, object, 0)) continue;
      // left, bottom, right, top: four 32-bit floats, written by PDFium.
      if (!api.FPDFPageObj_GetBounds(object, box, box + 4, box + 8, box + 12)) continue;
      const [left = 0, bottom = 0, right = 0, top = 0] = new Float32Array(heap.HEAPU8.buffer, box, 4);
      covered += Math.abs((right - left) * (top - bottom));
    }
    return Math.min(1, covered / area);
  } finally {
    heap.wasmExports.free(box);
  }
}

const FPDF_PAGEOBJ_IMAGE = 3;
const FPDF_PAGEOBJ_FORM = 5;
/** Nested forms deeper than this are not looked into (a hostile file may nest them endlessly). */
const MAX_FORM_DEPTH = 8;

function isOrHoldsImage(api: WrappedPdfiumModule, object: number, depth: number): boolean {
  const type = api.FPDFPageObj_GetType(object);
  if (type === FPDF_PAGEOBJ_IMAGE) return true;
  if (type !== FPDF_PAGEOBJ_FORM || depth >= MAX_FORM_DEPTH) return false;
  const count = api.FPDFFormObj_CountObjects(object);
  for (let i = 0; i < count; i++) if (isOrHoldsImage(api, api.FPDFFormObj_GetObject(object, i), depth + 1)) return true;
  return false;
}

const META_KEYS = [
  ['title', 'Title'], ['author', 'Author'], ['subject', 'Subject'], ['keywords', 'Keywords'], ['creator', 'Creator'], ['producer', 'Producer'],
] as const;

/** The document's Info dictionary and header version, as pdf-tasks.ts reports them for pdf.js. */
export function pdfiumMetadata(doc: PdfiumDocument): DocumentMetadata {
  const { api, heap } = doc.lib;
  const text = (key: string): string | undefined => {
    const size = api.FPDF_GetMetaText(doc.handle, key, 0, 0);
    if (size <= 2) return undefined;
    const buffer = heap.wasmExports.malloc(size);
    try {
      api.FPDF_GetMetaText(doc.handle, key, buffer, size);
      const value = utf16(heap, buffer, size).trim();
      return value === '' ? undefined : value;
    } finally {
      heap.wasmExports.free(buffer);
    }
  };
  const out: DocumentMetadata = {};
  for (const [field, key] of META_KEYS) {
    const value = text(key);
    if (value !== undefined) out[field] = value;
  }
  for (const [field, key] of [['createdAt', 'CreationDate'], ['modifiedAt', 'ModDate']] as const) {
    const raw = text(key);
    const value = raw === undefined ? undefined : parsePdfDate(raw);
    if (value !== undefined) out[field] = value;
  }
  const version = heap.wasmExports.malloc(4);
  try {
    if (api.FPDF_GetFileVersion(doc.handle, version)) {
      const number = new Int32Array(heap.HEAPU8.buffer, version, 1)[0] ?? 0;
      if (number > 0) out.formatVersion = `${Math.floor(number / 10)}.${number % 10}`;
    }
  } finally {
    heap.wasmExports.free(version);
  }
  return out;
}
