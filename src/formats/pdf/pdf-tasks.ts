// The PDF tasks a pool thread runs (see src/runtime/pool-worker.ts): `pdf.inspect`,
// `pdf.extract`, `pdf.ocr` and `pdf.render`. Inputs and results are plain data; failures are thrown as ReamErrors.
// Text comes from the engine the job chose (`pdfEngine`): PDFium (pdfium.ts) or pdf.js
// (pdfjs-pages.ts). pdf.js stays behind PDFium for what PDFium cannot do: files it refuses, pages
// it cannot load, and rendering for OCR and for viewing; it loads on the first task that needs it.
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import type { OcrPageResult } from '../ocr/ocr-pages.ts';
import { textQuality } from '../ocr/text-quality.ts';
import type { DocumentMetadata, Extraction, OcrEngine, OcrMode, PageFailure, PageText, PageWarning, PdfEngine, TaskHandler } from '../types.ts';
import { errorMessage, MIN_IMAGE_COVERAGE, pdfjsErrorCode, type PageRead } from './page-read.ts';
import { tidyLines } from './page-text.ts';
import { heldBytes, pdfiumMetadata, readPdfiumPages, withPdfiumDocument, type PdfiumPage } from './pdfium.ts';

/** pdf.js and all that renders (canvas, OCR): loaded on a thread's first task that needs them (see pdfjs-pages.ts). */
const pdfjs = (): Promise<typeof import('./pdfjs-pages.ts')> => import('./pdfjs-pages.ts');

/** `engine` absent: pdf.js (what tasks queued before PDFium existed meant). `password`: the user password of an encrypted file. */
export type PdfInspectInput = { path: string; engine?: PdfEngine; password?: string };
export type PdfInspectResult = { pageCount: number; metadata: DocumentMetadata };
export type PdfExtractInput = { path: string; from: number; to: number; ocr: OcrMode; engine?: PdfEngine; password?: string };
/** `ocrPages`: the pages to read again with `pdf.ocr` (their entries in `pages` hold the text layer, if any). */
export type PdfExtractResult = Extraction & { ocrPages: number[] };
export type PdfOcrInput = { path: string; page: number; languages: string[]; dpi: number; engine?: OcrEngine; password?: string };
export type PdfOcrResult = OcrPageResult;
export type PdfRenderInput = { path: string; page: number; dpi: number };
/** The PNG, base64 (task results are plain data). */
export type PdfRenderResult = { png: string };

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path, engine, password } = fromJson<PdfInspectInput>(input);
  if (engine !== 'pdfium') return (await pdfjs()).inspectWithPdfjs(path, password);
  return withPdfiumDocument(path, password, (doc) => {
    if (doc.pageCount < 1) throw ReamError.nonRetryable('invalid_pdf', 'the PDF has no pages');
    const result: PdfInspectResult = { pageCount: doc.pageCount, metadata: pdfiumMetadata(doc) };
    return asJson(result);
  }, async () => (await pdfjs()).inspectWithPdfjs(path, password));
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const { path, from, to, ocr, engine, password } = fromJson<PdfExtractInput>(input);
  const withPdfjs = async (): Promise<JsonValue> => (await pdfjs()).readWithPdfjs(path, password, ocr, (pageCount, readOne) => readRange(pageCount, from, to, ocr, readOne));
  if (engine !== 'pdfium') return withPdfjs();
  const wantsCoverage = (lines: readonly string[]): boolean => ocr !== 'always' && textQuality(lines.join('\n')) !== 'usable';
  const range = await readPdfiumPages(path, password, from, to, wantsCoverage);
  // PDFium refuses the file: pdf.js reads all of it (some damaged files open there).
  if (range.pageCount === undefined) return withPdfjs();
  return readRange(range.pageCount, from, to, ocr, (page) => pdfiumOrPdfjs(range.pages[page - 1 - from], page, ocr, path, password));
}

/** Reads pages `[from, to)` (0-based) with `readOne` (1-based), one page's failure never failing its siblings. */
async function readRange(pageCount: number, from: number, to: number, ocr: OcrMode, readOne: (page: number) => Promise<PageRead>): Promise<JsonValue> {
  const pages: PageText[] = [];
  const failures: PageFailure[] = [];
  const warnings: PageWarning[] = [];
  const ocrPages: number[] = [];
  for (let index = from; index < to; index++) {
    const page = index + 1;
    if (page > pageCount) {
      failures.push({ page, code: 'invalid_pdf', message: `the PDF has ${pageCount} pages, no page ${page}` });
      continue;
    }
    try {
      const read = await readOne(page);
      pages.push({ page, text: read.text, source: 'text' });
      if (read.imageOnly && ocr === 'never') {
        warnings.push({ page, code: 'needs_ocr', message: `page ${page} is an image without usable text and OCR is off (ocr: "never")` });
      } else if (read.imageOnly || ocr === 'always') {
        ocrPages.push(page);
      }
    } catch (error) {
      const code = error instanceof ReamError ? error.code : pdfjsErrorCode(error);
      failures.push({ page, code, message: errorMessage(error) });
    }
  }
  // "A file that only looks opened": when nothing in the range could be read, the chunk has
  // failed as a whole, with the pages' own code, rather than succeeded with nothing.
  const [first] = failures;
  if (pages.length === 0 && first) {
    throw ReamError.nonRetryable(first.code, `no page of ${from + 1}–${to} could be read; page ${first.page}: ${first.message}`, {
      details: { failures: asJson(failures) },
    });
  }
  const result: PdfExtractResult = { pages, failures, ocrPages, ...(warnings.length > 0 ? { warnings } : {}) };
  return asJson(result);
}

/**
 * One page PDFium read, or through pdf.js when PDFium could not load it (or trapped earlier in
 * this thread). PDFium measures the image area itself, only for pages whose text is not usable:
 * whether such a page is a scan to OCR (see {@link MIN_IMAGE_COVERAGE}).
 */
async function pdfiumOrPdfjs(read: PdfiumPage | undefined, page: number, ocr: OcrMode, path: string, password: string | undefined): Promise<PageRead> {
  if (read === undefined) {
    return (await pdfjs()).readPageWithPdfjs(path, page, ocr, password);
  }
  return { text: tidyLines(read.lines), imageOnly: (read.imageCoverage ?? 0) >= MIN_IMAGE_COVERAGE };
}

/** Memory this module holds that never shrinks: PDFium's WebAssembly memory (see pool-worker.ts). */
export { heldBytes };

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'pdf.inspect': inspect,
  'pdf.extract': extract,
  'pdf.ocr': async (input) => (await pdfjs()).ocrPage(input),
  'pdf.render': async (input) => (await pdfjs()).renderForView(input),
};
