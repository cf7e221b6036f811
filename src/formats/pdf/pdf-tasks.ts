// The PDF tasks a pool thread runs (see src/runtime/pool-worker.ts): `pdf.inspect`,
// `pdf.extract`, `pdf.ocr` and `pdf.render`. Inputs and results are plain data; failures are thrown as ReamErrors.
// Text comes from the engine the job chose (`pdfEngine`): PDFium (pdfium.ts) or pdf.js (pdfjs.ts).
// pdf.js stays behind PDFium for what PDFium cannot do: files it refuses, pages it cannot load,
// measuring the image area of pages without usable text (the OCR decision), and rendering for
// OCR and for viewing.
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import { recognizePage } from '../ocr/ocr-engine.ts';
import type { OcrPageResult } from '../ocr/ocr-pages.ts';
import { textQuality } from '../ocr/text-quality.ts';
import type { DocumentMetadata, Extraction, OcrEngine, OcrMode, PageFailure, PageText, PageWarning, PdfEngine, TaskHandler } from '../types.ts';
import { pageImageCoverage, renderPage } from './page-image.ts';
import { pageText, tidyLines, type TextRun } from './page-text.ts';
import { parsePdfDate } from './pdf-date.ts';
import { heldBytes, pdfiumMetadata, readPdfiumPages, withPdfiumDocument, type PdfiumPage } from './pdfium.ts';
import { forgetDocument, pdfjsErrorCode, withDocument } from './pdfjs.ts';

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

/**
 * Images must cover at least this share of a page without usable text for OCR to be worth its
 * seconds: a scan covers ~100%, a page with only a logo or a rule (a few %) is simply blank.
 */
const MIN_IMAGE_COVERAGE = 0.2;

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path, engine, password } = fromJson<PdfInspectInput>(input);
  if (engine !== 'pdfium') return inspectWithPdfjs(path, password);
  return withPdfiumDocument(path, password, (doc) => {
    if (doc.pageCount < 1) throw ReamError.nonRetryable('invalid_pdf', 'the PDF has no pages');
    const result: PdfInspectResult = { pageCount: doc.pageCount, metadata: pdfiumMetadata(doc) };
    return asJson(result);
  }, () => inspectWithPdfjs(path, password));
}

async function inspectWithPdfjs(path: string, password: string | undefined): Promise<JsonValue> {
  return withDocument(path, async (doc) => {
    if (doc.numPages < 1) throw ReamError.nonRetryable('invalid_pdf', 'the PDF has no pages');
    // pdf.js opens some damaged files lazily: one that only *looks* opened fails here rather
    // than later as N failed chunks. The last page is tried too, so that one bad first page does
    // not condemn a document whose other pages read fine.
    const probe = await Promise.allSettled([...new Set([1, doc.numPages])].map((n) => doc.getPage(n)));
    for (const result of probe) if (result.status === 'fulfilled') result.value.cleanup();
    const readable = probe.some((result) => result.status === 'fulfilled');
    const [first] = probe;
    if (!readable && first?.status === 'rejected') {
      throw ReamError.nonRetryable(pdfjsErrorCode(first.reason), `the PDF's pages cannot be read: ${message(first.reason)}`, { cause: first.reason });
    }
    const result: PdfInspectResult = { pageCount: doc.numPages, metadata: await metadata(doc) };
    return asJson(result);
  }, password);
}

async function metadata(doc: PDFDocumentProxy): Promise<DocumentMetadata> {
  const { info } = await doc.getMetadata().catch(() => ({ info: {} }));
  const dict = info as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const value = dict[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const date = (key: string): string | undefined => {
    const value = text(key);
    return value === undefined ? undefined : parsePdfDate(value);
  };
  const out: DocumentMetadata = {
    title: text('Title'),
    author: text('Author'),
    subject: text('Subject'),
    keywords: text('Keywords'),
    creator: text('Creator'),
    producer: text('Producer'),
    createdAt: date('CreationDate'),
    modifiedAt: date('ModDate'),
    formatVersion: text('PDFFormatVersion'),
  };
  // Absent fields are left out rather than carried as undefined (they cross a thread as JSON).
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const { path, from, to, ocr, engine, password } = fromJson<PdfExtractInput>(input);
  const withPdfjs = (): Promise<JsonValue> => withDocument(path, (doc) => readRange(doc.numPages, from, to, ocr, (page) => readPage(doc, page, ocr)), password);
  if (engine !== 'pdfium') return withPdfjs();
  const wantsCoverage = (lines: readonly string[]): boolean => ocr !== 'always' && textQuality(lines.join('\n')) !== 'usable';
  const range = await readPdfiumPages(path, password, from, to, wantsCoverage);
  // PDFium refuses the file: pdf.js reads all of it (some damaged files open there).
  if (range.pageCount === undefined) return withPdfjs();
  return readRange(range.pageCount, from, to, ocr, (page) => pdfiumOrPdfjs(range.pages[page - 1 - from], page, ocr, path, password));
}

type PageRead = { text: string; imageOnly: boolean };

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
      failures.push({ page, code, message: message(error) });
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
    return withDocument(path, (doc) => readPage(doc, page, ocr), password).catch(async (error: unknown) => {
      await forgetDocument(); // see forgetDocument: the next page must not be read from a confused copy
      throw error;
    });
  }
  return { text: tidyLines(read.lines), imageOnly: (read.imageCoverage ?? 0) >= MIN_IMAGE_COVERAGE };
}

/**
 * The page's text layer, and whether the page is an image without usable text (see
 * text-quality.ts and {@link MIN_IMAGE_COVERAGE}). Images are only looked at when the text is
 * not usable and OCR may follow or be warned about: an ordinary page costs nothing more.
 */
async function readPage(doc: PDFDocumentProxy, pageNumber: number, ocr: OcrMode): Promise<PageRead> {
  const page = await doc.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    const text = pageText(content.items.filter((item): item is TextRun & typeof item => 'str' in item));
    const imageOnly = ocr !== 'always' && textQuality(text) !== 'usable' && (await pageImageCoverage(page)) >= MIN_IMAGE_COVERAGE;
    return { text, imageOnly };
  } finally {
    // Drops the page's operator lists and decoded resources; the document stays open.
    page.cleanup();
  }
}

/** Renders one page and recognises its text; `ocr_failed` when either step fails. */
async function ocrPage(input: JsonValue): Promise<JsonValue> {
  const { path, page: pageNumber, languages, dpi, engine, password } = fromJson<PdfOcrInput>(input);
  const started = performance.now();
  return withDocument(path, async (doc) => {
    let page: PDFPageProxy;
    try {
      page = await doc.getPage(pageNumber);
    } catch (error) {
      throw ReamError.nonRetryable(pdfjsErrorCode(error), `page ${pageNumber} cannot be read: ${message(error)}`, { cause: error });
    }
    let image: Buffer;
    try {
      image = await renderPage(page, dpi);
    } catch (error) {
      if (error instanceof ReamError) throw error;
      throw ReamError.nonRetryable('ocr_failed', `page ${pageNumber} could not be rendered for OCR: ${message(error)}`, { cause: error });
    } finally {
      page.cleanup();
    }
    const { text, confidence, engine: ocrEngine } = await recognizePage(image, languages, dpi, engine);
    const result: PdfOcrResult = { text: tidyLines(text.split('\n')), confidence, ocrMs: Math.round(performance.now() - started), ocrEngine };
    return asJson(result);
  }, password);
}

/** Renders one page to PNG for viewing; a page outside the document is `validation_failed`. */
async function renderForView(input: JsonValue): Promise<JsonValue> {
  const { path, page: pageNumber, dpi } = fromJson<PdfRenderInput>(input);
  return withDocument(path, async (doc) => {
    if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > doc.numPages) {
      throw ReamError.nonRetryable('validation_failed', `page ${pageNumber} is not in this document (pages 1–${doc.numPages})`);
    }
    let page: PDFPageProxy;
    try {
      page = await doc.getPage(pageNumber);
    } catch (error) {
      throw ReamError.nonRetryable(pdfjsErrorCode(error), `page ${pageNumber} cannot be read: ${message(error)}`, { cause: error });
    }
    try {
      const result: PdfRenderResult = { png: (await renderPage(page, dpi)).toString('base64') };
      return asJson(result);
    } catch (error) {
      if (error instanceof ReamError) throw error;
      throw ReamError.nonRetryable('invalid_pdf', `page ${pageNumber} could not be rendered: ${message(error)}`, { cause: error });
    } finally {
      page.cleanup();
    }
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Memory this module holds that never shrinks: PDFium's WebAssembly memory (see pool-worker.ts). */
export { heldBytes };

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'pdf.inspect': inspect,
  'pdf.extract': extract,
  'pdf.ocr': ocrPage,
  'pdf.render': renderForView,
};
