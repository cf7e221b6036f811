// Formats without pages of their own (HTML, e-mail): the whole document is one page, and the
// result says so (`metadata.pageUnit`, `metadata.pagination`). Word is cut at its breaks
// instead (docx/docx-format.ts). Parsing runs in the
// thread pool as `<prefix>.inspect` (metadata) and `<prefix>.extract` (the text).
import { ReamError } from '../errors.ts';
import { checkFileSize, checkRange, fileSize, throwIfCancelled } from './file-checks.ts';
import type { DocumentFormat, DocumentMetadata, Extraction, Inspection, PageRange, PageWarning, ReadLimits, ReadOptions, TaskRunner } from './types.ts';

export type WholeInspectInput = { path: string };
export type WholeInspectResult = { metadata: DocumentMetadata };
export type WholeExtractInput = { path: string; links: boolean };
/** A caveat of the document's one page (its `page` is 1). */
export type WholeWarning = { code: PageWarning['code']; message: string };
export type WholeExtractResult = { text: string; warnings?: WholeWarning[] };

export const WHOLE_DOCUMENT_PAGINATION = 'one page: the whole document (the format has no fixed pages)';

export function createWholeDocumentFormat(runner: TaskRunner, mediaType: string, extensions: readonly string[], prefix: string): DocumentFormat {
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal): Promise<Inspection> {
      throwIfCancelled(signal);
      const size = await checkFileSize(path, limits);
      const input: WholeInspectInput = { path };
      const { metadata } = await runner.run<WholeInspectResult>(`${prefix}.inspect`, input, { signal, extraMemoryBytes: size });
      return { mediaType, pageCount: 1, metadata: { ...metadata, pageUnit: 'document', pagination: WHOLE_DOCUMENT_PAGINATION } };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal, options: ReadOptions = {}): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      if (range.from === range.to) return { pages: [], failures: [] };
      if (range.from > 0 || range.to > 1) throw ReamError.nonRetryable('validation_failed', `the document has one page; no pages ${range.from + 1}–${range.to}`);
      const input: WholeExtractInput = { path, links: options.links ?? false };
      const { text, warnings } = await runner.run<WholeExtractResult>(`${prefix}.extract`, input, { signal, extraMemoryBytes: await fileSize(path) });
      return { pages: [{ page: 1, text }], failures: [], ...(warnings === undefined ? {} : { warnings: warnings.map((w) => ({ page: 1, ...w })) }) };
    },
  };
}
