// The PDF reader as the engine sees it. Parsing runs in the thread pool (`pdf.inspect`,
// `pdf.extract` in pdf-tasks.ts); this side only checks limits and forwards.
import { checkFileSize, checkPageCount, checkRange, fileSize, throwIfCancelled } from '../file-checks.ts';
import { PDF_MEDIA_TYPE } from '../sniff.ts';
import type { DocumentFormat, Extraction, Inspection, PageRange, ReadLimits, TaskRunner } from '../types.ts';
import type { PdfExtractInput, PdfInspectInput, PdfInspectResult } from './pdf-tasks.ts';

export function createPdfFormat(runner: TaskRunner): DocumentFormat {
  return {
    mediaType: PDF_MEDIA_TYPE,
    extensions: ['.pdf'],
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal): Promise<Inspection> {
      throwIfCancelled(signal);
      const size = await checkFileSize(path, limits);
      const input: PdfInspectInput = { path };
      // The thread holds the file's bytes besides what it decodes (see pdfjs.ts readBytes).
      const result = await runner.run<PdfInspectResult>('pdf.inspect', input, { signal, extraMemoryBytes: size });
      checkPageCount(result.pageCount, limits);
      return { mediaType: PDF_MEDIA_TYPE, pageCount: result.pageCount, metadata: result.metadata };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      if (range.from === range.to) return { pages: [], failures: [] };
      const input: PdfExtractInput = { path, from: range.from, to: range.to };
      return runner.run<Extraction>('pdf.extract', input, { signal, extraMemoryBytes: await fileSize(path) });
    },
  };
}
