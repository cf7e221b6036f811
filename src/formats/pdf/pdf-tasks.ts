// The PDF tasks a pool thread runs (see src/runtime/pool-worker.ts): `pdf.inspect` and
// `pdf.extract`. Inputs and results are plain data; failures are thrown as ReamErrors.
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import type { DocumentMetadata, Extraction, PageFailure, PageText, TaskHandler } from '../types.ts';
import { pageText, type TextRun } from './page-text.ts';
import { parsePdfDate } from './pdf-date.ts';
import { pdfjsErrorCode, withDocument } from './pdfjs.ts';

export type PdfInspectInput = { path: string };
export type PdfInspectResult = { pageCount: number; metadata: DocumentMetadata };
export type PdfExtractInput = { path: string; from: number; to: number };

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path } = fromJson<PdfInspectInput>(input);
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
  });
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
  const { path, from, to } = fromJson<PdfExtractInput>(input);
  return withDocument(path, async (doc) => {
    const pages: PageText[] = [];
    const failures: PageFailure[] = [];
    for (let index = from; index < to; index++) {
      const page = index + 1;
      if (page > doc.numPages) {
        failures.push({ page, code: 'invalid_pdf', message: `the PDF has ${doc.numPages} pages, no page ${page}` });
        continue;
      }
      try {
        pages.push({ page, text: await readPage(doc, page) });
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
    const result: Extraction = { pages, failures };
    return asJson(result);
  });
}

async function readPage(doc: PDFDocumentProxy, pageNumber: number): Promise<string> {
  const page = await doc.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    return pageText(content.items.filter((item): item is TextRun & typeof item => 'str' in item));
  } finally {
    // Drops the page's operator lists and decoded resources; the document stays open.
    page.cleanup();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'pdf.inspect': inspect,
  'pdf.extract': extract,
};
