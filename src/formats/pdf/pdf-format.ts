// The PDF reader as the engine sees it. Parsing runs in the thread pool (`pdf.inspect`,
// `pdf.extract`, `pdf.ocr` in pdf-tasks.ts); this side only checks limits and forwards.
import { toReamError } from '../../errors.ts';
import { checkFileSize, checkPageCount, checkRange, fileSize, throwIfCancelled } from '../file-checks.ts';
import { checkOcrOptions, DEFAULT_OCR, MAX_RENDER_PIXELS } from '../ocr/ocr-options.ts';
import { PDF_MEDIA_TYPE } from '../sniff.ts';
import { checkPdfOptions } from './pdf-options.ts';
import type {
  DocumentFormat, Extraction, Inspection, OcrOptions, PageFailure, PageRange, PageText, ReadLimits, ReadOptions, TaskRunner,
} from '../types.ts';
import type { PdfExtractInput, PdfExtractResult, PdfInspectInput, PdfInspectResult, PdfOcrInput, PdfOcrResult, PdfRenderInput, PdfRenderResult } from './pdf-tasks.ts';

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
    async extract(path: string, range: PageRange, signal?: AbortSignal, options: ReadOptions = {}): Promise<Extraction> {
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
      return withOcr(runner, path, size, extraction, ocrPages, ocr, password, signal);
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
 * Replaces the text of `ocrPages` by what OCR reads on them. Each page is a task of its own, so
 * that the pool's time limit applies per page (a few seconds each) rather than to a whole chunk
 * of scans, and so that the pages of one chunk may run on several threads. A page whose OCR
 * fails becomes a page failure with the task's code; its siblings carry on.
 */
async function withOcr(
  runner: TaskRunner, path: string, size: number, extraction: Extraction, ocrPages: readonly number[], ocr: OcrOptions, password: string | undefined,
  signal?: AbortSignal,
): Promise<Extraction> {
  // The thread holds the file and the rendered page (RGBA, then its PNG) outside its heap.
  const extraMemoryBytes = size + MAX_RENDER_PIXELS * 5;
  const outcomes = await Promise.all(ocrPages.map(async (page) => {
    const input: PdfOcrInput = { path, page, languages: [...ocr.languages], dpi: ocr.dpi, engine: ocr.engine ?? 'auto', ...(password === undefined ? {} : { password }) };
    try {
      return { page, result: await runner.run<PdfOcrResult>('pdf.ocr', input, { signal, extraMemoryBytes }) };
    } catch (error) {
      const failure = toReamError(error);
      if (failure.code === 'cancelled') throw failure;
      return { page, failure };
    }
  }));
  const read = new Map<number, PageText>();
  const failures: PageFailure[] = [...extraction.failures];
  for (const { page, result, failure } of outcomes) {
    if (result) read.set(page, { page, text: result.text, source: 'ocr', confidence: result.confidence, ocrMs: result.ocrMs, ocrEngine: result.ocrEngine });
    else if (failure) failures.push({ page, code: failure.code, message: failure.message });
  }
  const failed = new Set(failures.map((f) => f.page));
  const pages = extraction.pages.filter((p) => !failed.has(p.page)).map((p) => read.get(p.page) ?? p);
  failures.sort((a, b) => a.page - b.page);
  return { ...extraction, pages, failures };
}
