// The pdf.js half of the PDF tasks (pdf-tasks.ts): inspecting and reading with pdf.js, OCR (which
// renders with pdf.js) and rendering for viewing. pdf-tasks.ts imports this module only when a
// task needs pdf.js, so a thread that reads with PDFium never loads pdf.js, its canvas or the OCR
// engines: measured, that import alone costs a thread ~120 ms of CPU and ~35 MB of memory.
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import { recognizePage } from '../ocr/ocr-engine.ts';
import { textQuality } from '../ocr/text-quality.ts';
import type { DocumentMetadata, OcrMode } from '../types.ts';
import { pageImageCoverage, renderPage } from './page-image.ts';
import { errorMessage, MIN_IMAGE_COVERAGE, pdfjsErrorCode, type PageRead } from './page-read.ts';
import { pageText, tidyLines, type TextRun } from './page-text.ts';
import { parsePdfDate } from './pdf-date.ts';
import type { PdfInspectResult, PdfOcrInput, PdfOcrResult, PdfRenderInput, PdfRenderResult } from './pdf-tasks.ts';
import { forgetDocument, withDocument } from './pdfjs.ts';

export async function inspectWithPdfjs(path: string, password: string | undefined): Promise<JsonValue> {
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
      throw ReamError.nonRetryable(pdfjsErrorCode(first.reason), `the PDF's pages cannot be read: ${errorMessage(first.reason)}`, { cause: first.reason });
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

/** Runs `read` over the document at `path` as pdf.js opens it: its page count, and a reader of one page (1-based). */
export function readWithPdfjs<T>(
  path: string, password: string | undefined, ocr: OcrMode, read: (pageCount: number, readOne: (page: number) => Promise<PageRead>) => Promise<T>,
): Promise<T> {
  return withDocument(path, (doc) => read(doc.numPages, (page) => readPage(doc, page, ocr)), password);
}

/** One page PDFium could not load, read by pdf.js. */
export function readPageWithPdfjs(path: string, page: number, ocr: OcrMode, password: string | undefined): Promise<PageRead> {
  return withDocument(path, (doc) => readPage(doc, page, ocr), password).catch(async (error: unknown) => {
    await forgetDocument(); // see forgetDocument: the next page must not be read from a confused copy
    throw error;
  });
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
export async function ocrPage(input: JsonValue): Promise<JsonValue> {
  const { path, page: pageNumber, languages, dpi, engine, password } = fromJson<PdfOcrInput>(input);
  const started = performance.now();
  return withDocument(path, async (doc) => {
    let page: PDFPageProxy;
    try {
      page = await doc.getPage(pageNumber);
    } catch (error) {
      throw ReamError.nonRetryable(pdfjsErrorCode(error), `page ${pageNumber} cannot be read: ${errorMessage(error)}`, { cause: error });
    }
    let image: Buffer;
    try {
      image = await renderPage(page, dpi);
    } catch (error) {
      if (error instanceof ReamError) throw error;
      throw ReamError.nonRetryable('ocr_failed', `page ${pageNumber} could not be rendered for OCR: ${errorMessage(error)}`, { cause: error });
    } finally {
      page.cleanup();
    }
    const { text, confidence, engine: ocrEngine } = await recognizePage(image, languages, dpi, engine);
    const result: PdfOcrResult = { text: tidyLines(text.split('\n')), confidence, ocrMs: Math.round(performance.now() - started), ocrEngine };
    return asJson(result);
  }, password);
}

/** Renders one page to PNG for viewing; a page outside the document is `validation_failed`. */
export async function renderForView(input: JsonValue): Promise<JsonValue> {
  const { path, page: pageNumber, dpi } = fromJson<PdfRenderInput>(input);
  return withDocument(path, async (doc) => {
    if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > doc.numPages) {
      throw ReamError.nonRetryable('validation_failed', `page ${pageNumber} is not in this document (pages 1–${doc.numPages})`);
    }
    let page: PDFPageProxy;
    try {
      page = await doc.getPage(pageNumber);
    } catch (error) {
      throw ReamError.nonRetryable(pdfjsErrorCode(error), `page ${pageNumber} cannot be read: ${errorMessage(error)}`, { cause: error });
    }
    try {
      const result: PdfRenderResult = { png: (await renderPage(page, dpi)).toString('base64') };
      return asJson(result);
    } catch (error) {
      if (error instanceof ReamError) throw error;
      throw ReamError.nonRetryable('invalid_pdf', `page ${pageNumber} could not be rendered: ${errorMessage(error)}`, { cause: error });
    } finally {
      page.cleanup();
    }
  });
}
