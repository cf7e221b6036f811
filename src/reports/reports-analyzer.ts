import { Readable } from 'node:stream';
import type { AnalysisResult, Analyzer, AnalyzeContext } from '../analyzers/port.ts';
import type { BlobStore } from '../blobs/port.ts';
import { ReamError, toReamError } from '../errors.ts';
import type { PageFailure, PageText } from '../formats/types.ts';
import { asJson, fromJson } from '../json.ts';
import { HTML_MEDIA_TYPE, PDF_MEDIA_TYPE, REPORTS_ANALYZER, type ReportsData } from './artifacts.ts';
import { safeFileName, UniqueNames } from './file-names.ts';
import type { PdfOptions } from './pdf/pdf-options.ts';
import { withPdfRenderer } from './pdf/shared-renderer.ts';
import type { ReportTemplate, TemplateData } from './template/compile.ts';

/** A report per row: what the `template`, `name` and `pdf` options of a job compile to. */
export interface ReportSpec {
  template: ReportTemplate;
  /** Renders a row's file name (without extension); default `row-<n>`. */
  name?: ReportTemplate;
  /** Print each report to PDF too, with this Chromium and these options. */
  pdf?: { executablePath: string; options: PdfOptions };
  /** JSON of the options, stored with results. */
  config: Record<string, string | boolean>;
}

/** What a chunk stores per row it rendered: names are made unique per document in `finish`. */
interface RenderedRow {
  row: number;
  base: string;
  files: { ext: string; sha256: string; size: number; mediaType: string }[];
}

/** The variables a row's template sees: its cells by column name, and `row_number`. */
function rowData(page: PageText): TemplateData {
  return { row_number: page.page, ...(page.cells ?? {}) };
}

async function store(blobs: BlobStore, bytes: Buffer | string): Promise<{ sha256: string; size: number }> {
  return blobs.put(Readable.from([typeof bytes === 'string' ? Buffer.from(bytes) : bytes]));
}

/** Renders one row's files; throws a coded error when its template or print fails. */
async function renderRow(spec: ReportSpec, page: PageText, blobs: BlobStore, print: ((html: string) => Promise<Buffer>) | undefined): Promise<RenderedRow> {
  const data = rowData(page);
  const html = await spec.template.render(data);
  const fallback = `row-${page.page}`;
  const base = spec.name ? safeFileName(await spec.name.render(data), fallback) : fallback;
  const files: RenderedRow['files'] = [{ ext: '.html', mediaType: HTML_MEDIA_TYPE, ...(await store(blobs, html)) }];
  if (print) files.push({ ext: '.pdf', mediaType: PDF_MEDIA_TYPE, ...(await store(blobs, await print(html))) });
  return { row: page.page, base, files };
}

/**
 * The `reports` analyzer: renders each row of its chunk with the job's template to HTML (and
 * PDF), stores the files in the blob store, and keeps their addresses in the chunk's checkpoint,
 * so that a re-run never renders a finished batch again. A row whose report fails is a failed
 * row with its code (`template_render_failed`, `timeout`); its siblings carry on. `finish`
 * names the files, unique per document in row order.
 */
export function reportsAnalyzer(spec: ReportSpec): Analyzer {
  const analyzeChunk = async (pages: readonly PageText[], context: AnalyzeContext): Promise<AnalysisResult> => {
    const { blobs } = context;
    if (!blobs) throw ReamError.nonRetryable('internal', 'reports need a blob store to keep their files in');
    const owned = context.chunk ? pages.filter((page) => page.page > context.chunk!.from && page.page <= context.chunk!.to) : pages;
    /** Renders the rows, `width` at a time (one per Chromium page: the pool bounds the memory). */
    const run = async (width: number, print?: (html: string) => Promise<Buffer>): Promise<AnalysisResult> => {
      const rendered: RenderedRow[] = [];
      const failures: PageFailure[] = [];
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let page = owned[next++]; page !== undefined; page = owned[next++]) {
          context.signal.throwIfAborted();
          try {
            rendered.push(await renderRow(spec, page, blobs, print));
          } catch (error) {
            const coded = toReamError(error);
            // A browser that died or a store that failed is the batch's problem (retried), not the row's.
            if (coded.retryable) throw coded;
            failures.push({ page: page.page, code: coded.code, message: coded.message });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(width, owned.length)) }, lane));
      rendered.sort((a, b) => a.row - b.row);
      failures.sort((a, b) => a.page - b.page);
      return { fields: {}, data: asJson(rendered), failures };
    };
    const pdf = spec.pdf;
    return pdf ? withPdfRenderer(pdf.executablePath, (renderer) => run(renderer.pages, (html) => renderer.render(html, pdf.options))) : run(1);
  };
  return {
    name: REPORTS_ANALYZER,
    config: spec.config,
    analyze: async (pages, context) => (await analyzeChunk(pages, context)).fields,
    analyzeChunk,
    finish(chunks) {
      const names = new UniqueNames();
      const artifacts: ReportsData['artifacts'] = [];
      const rows = chunks.flatMap((chunk) => fromJson<RenderedRow[] | undefined>(chunk.data ?? null) ?? []).sort((a, b) => a.row - b.row);
      for (const row of rows) {
        const base = names.take(row.base);
        for (const file of row.files) artifacts.push({ name: `${base}${file.ext}`, sha256: file.sha256, size: file.size, mediaType: file.mediaType, row: row.row });
      }
      return Promise.resolve({ fields: {}, data: asJson({ artifacts } satisfies ReportsData) });
    },
  };
}
