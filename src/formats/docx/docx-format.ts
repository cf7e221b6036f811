// Word as a document: its pages are the parts between its page and section breaks
// (docx-pages.ts), read in the thread pool as `docx.inspect` (metadata, page count) and
// `docx.extract` (every page's text; the range asked for is kept).
import { asJson } from '../../json.ts';
import { checkFileSize, checkPageCount, checkRange, fileSize, throwIfCancelled } from '../file-checks.ts';
import { DOCX_MEDIA_TYPE, extensionsOf } from '../sniff.ts';
import type { DocumentFormat, TaskRunner } from '../types.ts';
import type { WholeExtractInput, WholeInspectInput } from '../whole-document-format.ts';
import type { DocxExtractResult, DocxInspectResult } from './docx-tasks.ts';

export function createDocxFormat(runner: TaskRunner): DocumentFormat {
  return {
    mediaType: DOCX_MEDIA_TYPE,
    extensions: extensionsOf(DOCX_MEDIA_TYPE),
    async inspect(path, limits, signal) {
      throwIfCancelled(signal);
      const size = await checkFileSize(path, limits);
      const input: WholeInspectInput = { path };
      const { metadata, pageCount } = await runner.run<DocxInspectResult>('docx.inspect', asJson(input), { signal, extraMemoryBytes: size });
      checkPageCount(pageCount, limits);
      return { mediaType: DOCX_MEDIA_TYPE, pageCount, metadata };
    },
    async extract(path, range, signal, options = {}) {
      throwIfCancelled(signal);
      checkRange(range);
      if (range.from === range.to) return { pages: [], failures: [] };
      const input: WholeExtractInput = { path, links: options.links ?? false };
      const { pages } = await runner.run<DocxExtractResult>('docx.extract', asJson(input), { signal, extraMemoryBytes: await fileSize(path) });
      return { pages: pages.slice(range.from, range.to).map((text, i) => ({ page: range.from + i + 1, text })), failures: [] };
    },
  };
}
