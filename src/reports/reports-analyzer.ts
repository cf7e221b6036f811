import { Readable } from 'node:stream';
import type { AnalysisResult, Analyzer, AnalyzeContext, Fields } from '../analyzers/port.ts';
import { ReamError, toReamError } from '../errors.ts';
import type { PageFailure, PageText } from '../formats/types.ts';
import { asJson, fromJson, type JsonValue } from '../json.ts';
import { setOwn } from '../own-keys.ts';
import { HTML_MEDIA_TYPE, PDF_MEDIA_TYPE, REPORTS_ANALYZER, type ReportsData } from './artifacts.ts';
import { safeFileName, UniqueNames } from './file-names.ts';
import type { PdfOptions } from './pdf/pdf-options.ts';
import type { ArtifactBlob } from '../store/job-document-store.ts';
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

/**
 * What a chunk stores per row: its base name and the files it rendered. Names are made unique
 * per document in `finish`, in row order; a failed row keeps its name (no files), so that the
 * rows after it keep theirs when it is retried and succeeds.
 */
interface RenderedRow {
  row: number;
  base: string;
  files: { ext: string; sha256: string; size: number; mediaType: string }[];
}

/**
 * The blobs a chunk's stored report data (its rendered rows) names: recorded for the job as
 * the chunk is checkpointed, so a job deleted before its merge still takes them along.
 */
export function renderedBlobs(data: JsonValue | undefined): ArtifactBlob[] {
  if (!Array.isArray(data)) return [];
  return (data as unknown as RenderedRow[]).flatMap((row) => (Array.isArray(row.files) ? row.files.map(({ sha256, size }) => ({ sha256, size })) : []));
}

/** A report per table row, or one per document (the document pipelines). */
export type ReportUnit = 'row' | 'document';

/** The variables a row's template sees: its cells by column name, and `row_number`. */
function rowData(page: PageText): TemplateData {
  return { row_number: page.page, ...(page.cells ?? {}) };
}

/** Stores a report file: through the job's `storeFile` (within its tenant's storage quota), else straight into `blobs`. */
type StoreFile = (bytes: Buffer) => Promise<{ sha256: string; size: number }>;

function fileStore(context: AnalyzeContext): StoreFile {
  if (context.storeFile) return (bytes) => context.storeFile!(bytes);
  const { blobs } = context;
  if (!blobs) throw ReamError.nonRetryable('internal', 'reports need a blob store to keep their files in');
  return (bytes) => blobs.put(Readable.from([bytes]));
}

/**
 * The variables a document's template sees: `source` (its file name), `page_count`, `fields`
 * (each field's first value) and `all_fields` (every value of each, in page order).
 */
function documentData(merged: Fields, context: AnalyzeContext, pageCount: number): TemplateData {
  const fields: TemplateData = {};
  const all: TemplateData = {};
  for (const [name, matches] of Object.entries(merged)) {
    // Own keys, a field named `__proto__` included (own-keys.ts).
    setOwn(fields, name, matches[0]?.value ?? null);
    setOwn(all, name, matches.map((match) => match.value));
  }
  return { source: context.source ?? context.documentId, page_count: pageCount, fields, all_fields: all };
}

/** `invoices/march.pdf` → `march`. */
function stem(source: string): string {
  return (source.split(/[\\/]/).pop() ?? source).replace(/\.[^.]*$/, '');
}

/** Renders one row's (or document's) files; throws a coded error when its template or print fails. */
async function renderRow(spec: ReportSpec, page: PageText, store: StoreFile, print: ((html: string) => Promise<Buffer>) | undefined): Promise<RenderedRow> {
  return renderReport(spec, rowData(page), page.page, `row-${page.page}`, store, print);
}

/** A row's (or document's) base name: its `name` template rendered and made safe, else `fallback`. */
async function baseName(spec: ReportSpec, data: TemplateData, fallback: string): Promise<string> {
  return spec.name ? safeFileName(await spec.name.render(data), fallback) : fallback;
}

/** The name a failed row keeps (see {@link RenderedRow}); `row-<n>` when its name cannot be rendered either. */
async function failedRow(spec: ReportSpec, page: PageText): Promise<RenderedRow> {
  const fallback = `row-${page.page}`;
  const base = await baseName(spec, rowData(page), fallback).catch(() => fallback);
  return { row: page.page, base, files: [] };
}

async function renderReport(spec: ReportSpec, data: TemplateData, row: number, fallback: string, store: StoreFile, print: ((html: string) => Promise<Buffer>) | undefined): Promise<RenderedRow> {
  const html = await spec.template.render(data);
  const base = await baseName(spec, data, fallback);
  const files: RenderedRow['files'] = [{ ext: '.html', mediaType: HTML_MEDIA_TYPE, ...(await store(Buffer.from(html))) }];
  if (print) files.push({ ext: '.pdf', mediaType: PDF_MEDIA_TYPE, ...(await store(await print(html))) });
  return { row, base, files };
}

/**
 * The `reports` analyzer: renders each row of its chunk with the job's template to HTML (and
 * PDF), stores the files in the blob store, and keeps their addresses in the chunk's checkpoint,
 * so that a re-run never renders a finished batch again. A row whose report fails is a failed
 * row with its code (`template_render_failed`, `resource_limit`, `timeout`); its siblings carry on. `finish`
 * names the files, unique per document in row order.
 */
export function reportsAnalyzer(spec: ReportSpec, unit: ReportUnit = 'row'): Analyzer {
  /** With `print`, the shared Chromium pool; without, HTML only. */
  const withPrinter = <T>(use: (width: number, print?: (html: string) => Promise<Buffer>) => Promise<T>): Promise<T> => {
    const pdf = spec.pdf;
    return pdf ? withPdfRenderer(pdf.executablePath, (renderer) => use(renderer.pages, (html) => renderer.render(html, pdf.options))) : use(1);
  };
  const analyzeChunk = async (pages: readonly PageText[], context: AnalyzeContext): Promise<AnalysisResult> => {
    if (unit === 'document') return { fields: {} }; // rendered once, in `finish`
    const store = fileStore(context);
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
            rendered.push(await renderRow(spec, page, store, print));
          } catch (error) {
            const coded = toReamError(error);
            // A browser that died or a store that failed is the batch's problem (retried), not the row's.
            if (coded.retryable) throw coded;
            failures.push({ page: page.page, code: coded.code, message: coded.message });
            rendered.push(await failedRow(spec, page));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(width, owned.length)) }, lane));
      rendered.sort((a, b) => a.row - b.row);
      failures.sort((a, b) => a.page - b.page);
      return { fields: {}, data: asJson(rendered), failures };
    };
    return withPrinter(run);
  };
  return {
    name: REPORTS_ANALYZER,
    config: spec.config,
    analyze: async (pages, context) => (await analyzeChunk(pages, context)).fields,
    analyzeChunk,
    async finish(chunks, merged, context) {
      if (unit === 'document') {
        // One report of the whole document; a repeated merge renders it again, stored once.
        const store = fileStore(context);
        const pageCount = Math.max(0, ...chunks.map((chunk) => chunk.to));
        const source = context.source ?? context.documentId;
        const rendered = await withPrinter((_width, print) => renderReport(spec, documentData(merged, context, pageCount), 0, safeFileName(stem(source), 'document'), store, print));
        const artifacts = rendered.files.map((file) => ({ name: `${rendered.base}${file.ext}`, sha256: file.sha256, size: file.size, mediaType: file.mediaType, row: 0 }));
        return { fields: {}, data: asJson({ artifacts } satisfies ReportsData) };
      }
      const names = new UniqueNames();
      const artifacts: ReportsData['artifacts'] = [];
      const rows = chunks.flatMap((chunk) => fromJson<RenderedRow[] | undefined>(chunk.data ?? null) ?? []).sort((a, b) => a.row - b.row);
      for (const row of rows) {
        const base = names.take(row.base);
        for (const file of row.files) artifacts.push({ name: `${base}${file.ext}`, sha256: file.sha256, size: file.size, mediaType: file.mediaType, row: row.row });
      }
      return { fields: {}, data: asJson({ artifacts } satisfies ReportsData) };
    },
  };
}
