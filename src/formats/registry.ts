import { basename } from 'node:path';
import { ReamError } from '../errors.ts';
import { readHead } from './file-checks.ts';
import { sniffFile } from './ole/ole-container.ts';
import { createDocxFormat } from './docx/docx-format.ts';
import { createEmailFormat } from './email/email-format.ts';
import { createImageFormat } from './image/image-format.ts';
import { createPdfFormat } from './pdf/pdf-format.ts';
import { createSheetFormat } from './sheet/sheet-format.ts';
import {
  CSV_MEDIA_TYPE, HTML_MEDIA_TYPE, JPEG_MEDIA_TYPE, MARKDOWN_MEDIA_TYPE, PNG_MEDIA_TYPE, TEXT_MEDIA_TYPE, TIFF_MEDIA_TYPE, WEBP_MEDIA_TYPE, XLSX_MEDIA_TYPE,
  extensionsOf,
} from './sniff.ts';
import { createTextFormat } from './text/text-format.ts';
import type { DocumentFormat, ReadLimits, TaskRunner } from './types.ts';
import { createWholeDocumentFormat } from './whole-document-format.ts';
import { zipMediaType } from './zip/zip-container.ts';

/** Every reader ream has, and the way to pick one for a file. */
export interface Formats {
  readonly formats: readonly DocumentFormat[];
  /**
   * Reads the size and first bytes of `path` and returns the reader for it, or throws the
   * `ReamError` that says why not: `empty_file`, `file_too_large`, `unsupported_type`,
   * `invalid_pdf` (named .pdf, is not one), `invalid_sheet` (named .xlsx or .csv, is not one),
   * `invalid_docx`, `invalid_image` (likewise), `resource_limit` (a ZIP bomb). `name` is the user's file name (default: the
   * path's); its extension is checked against the content, never trusted over it.
   */
  identify(path: string, name: string | undefined, limits: ReadLimits): Promise<DocumentFormat>;
  byMediaType(mediaType: string): DocumentFormat | undefined;
}

/** The formats over one task runner (the thread pool), which parses PDFs and tables off the event loop. */
export function createFormats(runner: TaskRunner): Formats {
  const formats: readonly DocumentFormat[] = [
    createPdfFormat(runner),
    createTextFormat(TEXT_MEDIA_TYPE, extensionsOf(TEXT_MEDIA_TYPE)),
    createTextFormat(MARKDOWN_MEDIA_TYPE, extensionsOf(MARKDOWN_MEDIA_TYPE)),
    createSheetFormat(runner, CSV_MEDIA_TYPE, extensionsOf(CSV_MEDIA_TYPE)),
    createSheetFormat(runner, XLSX_MEDIA_TYPE, extensionsOf(XLSX_MEDIA_TYPE)),
    createDocxFormat(runner),
    createWholeDocumentFormat(runner, HTML_MEDIA_TYPE, extensionsOf(HTML_MEDIA_TYPE), 'html'),
    createEmailFormat(runner),
    ...[PNG_MEDIA_TYPE, JPEG_MEDIA_TYPE, TIFF_MEDIA_TYPE, WEBP_MEDIA_TYPE].map((type) => createImageFormat(runner, type, extensionsOf(type))),
  ];
  const byMediaType = (mediaType: string): DocumentFormat | undefined => formats.find((f) => f.mediaType === mediaType);
  return {
    formats,
    byMediaType,
    async identify(path, name, limits) {
      const { head } = await readHead(path, limits);
      // A ZIP's first bytes only suggest DOCX or XLSX: its directory decides (and is checked for bombs).
      const mediaType = await zipMediaType(path, await sniffFile(path, head, name ?? basename(path)));
      const format = byMediaType(mediaType);
      if (!format) throw ReamError.nonRetryable('unsupported_type', `no reader for ${mediaType}`);
      return format;
    },
  };
}
