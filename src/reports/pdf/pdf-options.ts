import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';

/** How a report is printed. */
export interface PdfOptions {
  /** `A4`, `A3`, `A5`, `Letter`, `Legal`, `Tabloid`. */
  pageSize: string;
  /** CSS length on every side: `12mm`, `0.5in`, `1cm`, `20px`. */
  margin: string;
  landscape: boolean;
  /** HTML of the header and footer Chromium prints on each page (its `pageNumber`/`totalPages` classes work). */
  header?: string;
  footer?: string;
}

export const PAGE_SIZES = ['A3', 'A4', 'A5', 'Letter', 'Legal', 'Tabloid'] as const;
export const DEFAULT_PDF_OPTIONS: PdfOptions = { pageSize: 'A4', margin: '12mm', landscape: false };

const LENGTH = /^\d{1,3}(\.\d{1,2})?(mm|cm|in|px)$/;
const MAX_HEADER_CHARS = 16 * 1024;
/**
 * What makes Chromium fail every print of a header or footer ("Printing failed"): a stylesheet,
 * a preload, an `@import` or a font to load. Said at submit; a variant this misses (CSS escapes)
 * fails each row alone with `template_render_failed` (see pdf-renderer.ts).
 */
const LOADS = [/<link\b/i, /@import\b/i, /url\(\s*['"]?\s*(?!data:)/i];

/**
 * Print options from a job's `pdf` option: `true` for the defaults, or an object with
 * `pageSize`, `margin`, `landscape`, `header`, `footer`. Anything else is `validation_failed`.
 */
export function pdfOptions(value: JsonObject | true): PdfOptions {
  if (value === true) return DEFAULT_PDF_OPTIONS;
  const { pageSize = 'A4', margin = '12mm', landscape = false, header, footer, ...rest } = value;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw ReamError.nonRetryable('validation_failed', `unknown pdf option(s): ${unknown.join(', ')} (known: pageSize, margin, landscape, header, footer)`);
  const size = PAGE_SIZES.find((name) => typeof pageSize === 'string' && name.toLowerCase() === pageSize.toLowerCase());
  if (!size) throw ReamError.nonRetryable('validation_failed', `pdf pageSize must be one of ${PAGE_SIZES.join(', ')}`);
  if (typeof margin !== 'string' || !LENGTH.test(margin)) throw ReamError.nonRetryable('validation_failed', 'pdf margin must be a length such as 12mm, 1cm, 0.5in or 20px');
  if (typeof landscape !== 'boolean') throw ReamError.nonRetryable('validation_failed', 'pdf landscape must be true or false');
  for (const [name, html] of [['header', header], ['footer', footer]] as const) {
    if (html !== undefined && (typeof html !== 'string' || html.length > MAX_HEADER_CHARS)) {
      throw ReamError.nonRetryable('validation_failed', `pdf ${name} must be HTML of at most ${MAX_HEADER_CHARS} characters`);
    }
    if (html !== undefined && LOADS.some((load) => load.test(html))) {
      throw ReamError.nonRetryable('validation_failed', `pdf ${name} may not load anything (<link>, @import, url() other than data:): Chromium cannot print a ${name} that does. Put its styles in a <style> and its images and fonts in data: URLs`);
    }
  }
  return {
    pageSize: size, margin, landscape,
    ...(typeof header === 'string' ? { header } : {}),
    ...(typeof footer === 'string' ? { footer } : {}),
  };
}
