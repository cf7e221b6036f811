// The PDF reader as the engine sees it. Parsing runs in the thread pool (`pdf.inspect`,
// `pdf.extract`, `pdf.ocr` in pdf-tasks.ts); this side only checks limits and forwards.
import { checkFileSize, checkPageCount, checkRange, fileSize, throwIfCancelled } from '../file-checks.ts';
import { checkOcrOptions, DEFAULT_OCR, MAX_RENDER_PIXELS } from '../ocr/ocr-options.ts';
import { ocrPages as readByOcr } from '../ocr/ocr-pages.ts';
import { PDF_MEDIA_TYPE } from '../sniff.ts';
import { checkPdfOptions } from './pdf-options.ts';
import type {
  DocumentFormat, Extraction, Inspection, OcrOptions, PageRange, PageReadListener, PageWarning, ReadLimits, ReadOptions, TaskRunner,
} from '../types.ts';
import type { PdfExtractInput, PdfExtractResult, PdfInspectInput, PdfInspectResult, PdfOcrInput, PdfRenderInput, PdfRenderResult } from './pdf-tasks.ts';

export function createPdfFormat(runner: TaskRunner): DocumentFormat {
  return {
    mediaType: PDF_MEDIA_TYPE,
    extensions: ['.pdf'],
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal, options: ReadOptions = {}): Promise<Inspection> {
      throwIfCancelled(signal);
      const { engine, password } = checkPdfOptions(options);
      const size = await checkFileSize(path, limits);
      const input: PdfInspectInput = { path, engine, ...(password === undefined ? {} : { password }) };
      // The thread holds the file's bytes besides what it decodes (see pdfjs.ts readBytes).
      const result = await runner.run<PdfInspectResult>('pdf.inspect', input, { signal, extraMemoryBytes: size });
      checkPageCount(result.pageCount, limits);
      return { mediaType: PDF_MEDIA_TYPE, pageCount: result.pageCount, metadata: result.metadata };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal, options: ReadOptions = {}, onPageRead?: PageReadListener): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      if (range.from === range.to) return { pages: [], failures: [] };
      // Checked here too: a program may call the reader directly, without a pipeline.
      const ocr = options.ocr ? checkOcrOptions(options.ocr) : DEFAULT_OCR;
      const { engine, password } = checkPdfOptions(options);
      const size = await fileSize(path);
      const input: PdfExtractInput = { path, from: range.from, to: range.to, ocr: ocr.mode, engine, ...(password === undefined ? {} : { password }) };
      const { ocrPages, ...extraction } = await runner.run<PdfExtractResult>('pdf.extract', input, { signal, extraMemoryBytes: size });
      if (ocrPages.length === 0) return extraction;
      // The pages read from their text layer are done; the scans follow one by one.
      if (onPageRead) for (let page = range.from + 1; page <= range.to; page++) if (!ocrPages.includes(page)) onPageRead(page);
      return withOcr(runner, path, size, extraction, ocrPages, ocr, password, signal, onPageRead);
    },
    async renderPage(path: string, page: number, dpi: number, signal?: AbortSignal): Promise<Buffer> {
      throwIfCancelled(signal);
      const input: PdfRenderInput = { path, page, dpi };
      // The thread holds the file and the rendered page (RGBA, then its PNG) outside its heap, as for OCR.
      const { png } = await runner.run<PdfRenderResult>('pdf.render', input, { signal, extraMemoryBytes: (await fileSize(path)) + MAX_RENDER_PIXELS * 5 });
      return Buffer.from(png, 'base64');
    },
  };
}

/**
 * Replaces the text of `ocrPages` by what OCR reads on them (see ocr-pages.ts: a task per page,
 * a page whose OCR fails is a page failure with the task's code). A page on which OCR finds no
 * word gets a `no_text_found` warning, as an image's page does: a blank or unreadable scan never
 * passes for a plain success.
 */
async function withOcr(
  runner: TaskRunner, path: string, size: number, extraction: Extraction, ocrPages: readonly number[], ocr: OcrOptions, password: string | undefined,
  signal?: AbortSignal, onPageRead?: PageReadListener,
): Promise<Extraction> {
  // The thread holds the file and the rendered page (RGBA, then its PNG) outside its heap.
  const extraMemoryBytes = size + MAX_RENDER_PIXELS * 5;
  const inputOf = (page: number): PdfOcrInput => ({ path, page, languages: [...ocr.languages], dpi: ocr.dpi, engine: ocr.engine ?? 'auto', ...(password === undefined ? {} : { password }) });
  const outcome = await readByOcr(runner, 'pdf.ocr', ocrPages, inputOf, { signal, extraMemoryBytes, onPageRead });
  const read = new Map(outcome.pages.map((page) => [page.page, page]));
  const failures = [...extraction.failures, ...outcome.failures].sort((a, b) => a.page - b.page);
  const failed = new Set(failures.map((f) => f.page));
  const pages = extraction.pages.filter((p) => !failed.has(p.page)).map((p) => read.get(p.page) ?? p);
  const blank = outcome.pages.filter((page) => page.text.trim() === '').map(({ page }): PageWarning => ({ page, code: 'no_text_found', message: `OCR found no text on page ${page}` }));
  const warnings = [...(extraction.warnings ?? []), ...blank].sort((a, b) => a.page - b.page);
  return { ...extraction, pages, failures, ...(warnings.length > 0 ? { warnings } : {}) };
}
