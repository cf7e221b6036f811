import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { ReamError, toReamError, type ErrorInfo } from '../errors.ts';
import { readHead } from '../formats/file-checks.ts';
import { sniffFile } from '../formats/ole/ole-container.ts';
import { CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE } from '../formats/sniff.ts';
import type { UsageView } from '../api-types.ts';
import { fromJson, type JsonObject } from '../json.ts';
import type { PageFailure } from '../formats/types.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import { reportSpec } from '../reports/report-options.ts';
import { createReam, type Ream } from '../runtime/create-ream.ts';
import type { TableBatch } from '../runtime/ream.ts';
import type { JobRecord } from '../store/job-store.ts';
import { currentJob } from './job-pointer.ts';
import { formatJobStop, formatModelUsage, jobStop } from './llm-flags.ts';
import { localReamOptions, type LocalEngineOptions } from './local-engine.ts';
import { createProgressView, type ProgressMode } from './progress-view.ts';
import { reportJobOptions, type ReportFlags } from './report-flags.ts';
import { ResultsFile } from './results-file.ts';
import { checkReportsFolder, reportsFolder, writeReports } from './report-files.ts';
import { followTable, tableFieldNames, type FollowedTable } from './rows-follower.ts';
import { csvFieldsOf, tableLayout, writeTableBatch, type RowCounts } from './rows-table.ts';
import { printable } from './printable.ts';
import { readRulesFile } from './rules-file.ts';
import { checkTablePath, openTableWriter, type TableWriter } from './table-writers.ts';
import { sheetName } from '../exports/sheet-name.ts';

export interface RowsOptions extends LocalEngineOptions {
  /** .csv, .xlsx or .jsonl; none with reports: only the reports are written. */
  out?: string;
  report?: ReportFlags;
  dataDir: string;
  sheet?: string;
  rules?: string;
  /** Model options asked about each row (the `--llm-*` flags): the `rows` pipeline's `llm` option. */
  llm?: JsonObject;
  rowsPerTask?: number;
  maxRows?: number;
  /**
   * Put the rows into the data dir's search index (--index). Off by default: the table written
   * back is what `ream rows` makes, and indexing a million rows costs more than reading them.
   */
  index?: boolean;
  /** false: start over (--no-resume). */
  resume: boolean;
  /** Run the failed rows of the last run again (--retry-failed): a job retry, row by row. */
  retryFailed?: boolean;
  progress: ProgressMode;
}

export interface RowsSummary {
  rows: number;
  failedRows: number;
  /** Row batches (tasks) of the document; 0 when it could not be read at all. */
  batches: number;
  /** Reports the job made, and how many this run wrote (the others were there from an earlier run). */
  reports?: { total: number; written: number; folder: string };
  /** The first rows that failed, when no table (with its error columns) is written to say so. */
  failures?: PageFailure[];
  /** Set when the file as a whole could not be read (not a table, no header, …): nothing is written. */
  error?: Pick<ErrorInfo, 'code' | 'message'>;
  /** Model tokens and calls, when rows were asked about with `--llm-*`. */
  usage?: UsageView;
  /** Why the job was stopped short (its token budget spent: `budget_exceeded`). */
  stopped?: Pick<ErrorInfo, 'code' | 'message'>;
  /** Cells written without characters the output format cannot hold (an .xlsx: control characters). */
  cellsWithDroppedCharacters?: number;
  wallSeconds: number;
  interrupted: boolean;
}

function jobOptions(options: RowsOptions): JsonObject {
  const job: JsonObject = { index: options.index ?? false };
  if (options.sheet !== undefined) job.sheet = options.sheet;
  if (options.rules !== undefined) job.rules = readRulesFile(options.rules);
  if (options.llm !== undefined) job.llm = options.llm;
  if (options.rowsPerTask !== undefined) job.chunkPages = options.rowsPerTask;
  if (options.maxRows !== undefined) job.maxPages = options.maxRows;
  if (options.report) Object.assign(job, reportJobOptions(options.report));
  // A CSV table: each batch keeps its rows' CSV records, appended as they are (no row parsed here).
  if (options.out !== undefined && extname(options.out).toLowerCase() === '.csv') job.tableCsv = true;
  return job;
}

/**
 * `ream rows`: one table (CSV or XLSX) as one job of the `rows` pipeline, every data row an
 * item, written back as a table with a column per field and error columns. The job is found
 * again through the data dir (same input file, output, options), so a re-run after Ctrl-C or a
 * crash redoes only the row batches without a checkpoint.
 */
export async function rowsCommand(input: string, options: RowsOptions, signal: AbortSignal): Promise<RowsSummary> {
  const started = Date.now();
  const path = resolve(input);
  const out = options.out === undefined ? undefined : resolve(options.out);
  if (out !== undefined) checkTablePath(out);
  const jobOpts = jobOptions(options);
  // A template that does not parse, or --pdf without Chromium, is said now: before any row runs.
  reportSpec(jobOpts);
  const file = await stat(path).catch((error: unknown) => {
    throw ReamError.nonRetryable('validation_failed', `cannot read ${input}: ${toReamError(error).message}`);
  });
  // The output replaces its file when the run ends: naming the input would replace the user's table (and every other sheet of a workbook).
  const outFile = out === undefined ? undefined : await stat(out).catch(() => undefined);
  if (outFile && outFile.dev === file.dev && outFile.ino === file.ino) {
    throw ReamError.nonRetryable('validation_failed', `--out ${options.out ?? ''} is the input table itself: write the results to another file`);
  }
  // Paths that could never be written are said before the data dir is opened and any row runs.
  if (out !== undefined) ResultsFile.check(out, `the table ${out}`);
  if (options.report) checkReportsFolder(resolve(options.report.outDir));
  const summary: RowsSummary = { rows: 0, failedRows: 0, batches: 0, wallSeconds: 0, interrupted: false };
  const refused = await notATable(path);
  if (refused) return { ...summary, error: refused, wallSeconds: (Date.now() - started) / 1000 };
  const view = createProgressView(options.progress, 1, 'rows');
  const ream = await createReam(localReamOptions(options.dataDir, options));
  try {
    const outDir = options.report ? resolve(options.report.outDir) : undefined;
    const identity = { out: [out, outDir].filter((path) => path !== undefined).join('|'), pipeline: 'rows', options: jobOpts, input: { path, size: file.size, modifiedMs: file.mtimeMs } };
    const job = await retryIfAsked(ream, await currentJob(ream, resolve(options.dataDir), identity, !options.resume), options);
    const unsubscribe = ream.subscribe({ jobId: job.id }, (event) => view.update({ filesDone: 0, filesTotal: 1, counting: false, ...event.progress }));
    try {
      const { documentId } = await ream.addFile(job.id, { path, source: input });
      // The table is written as its batches end; after a retry (checkpoints redone), after the job.
      const fieldNames = tableFieldNames(jobOpts);
      const follower = out !== undefined && !options.retryFailed
        ? followTable(ream, job.id, documentId, out, fieldNames, (metadata) => tableSheet(metadata.sheet, out))
        : undefined;
      let followed: FollowedTable | undefined;
      try {
        const ended = await ream.wait(job.id, { signal }).then(() => true, (error: unknown) => {
          if (signal.aborted) return false;
          throw error;
        });
        followed = await follower?.stop();
        if (!ended) {
          summary.interrupted = true;
        } else {
          const result = await ream.documentResult(job.id, documentId);
          if (!result) throw ReamError.retryable('internal', 'the job ended without a result for the table');
          const output = fromJson<DocumentOutput>(result.output);
          if (out !== undefined) {
            const written = followed;
            followed = undefined; // writeResult finishes or drops it
            await writeResult(output, fieldNames, written, (after, csv) => ream.documentTableBatches(job.id, documentId, { after, ...csv }), out, summary);
          } else {
            countRows(output, summary);
          }
          // Every row read, then the document's own step failed (its reports' list not kept, say):
          // said, with a failing exit, rather than a success with nothing written.
          if (output.status === 'failed' && output.error && !summary.error) summary.error = { code: output.error.code, message: output.error.message };
          if (outDir !== undefined && output.metadata?.columns !== undefined) await saveReports(ream, job.id, reportsFolder(outDir, job), summary);
          summary.batches = (await ream.counts(job.id)).chunksTotal;
          const view = await ream.jobView((await ream.getJob(job.id)) ?? job);
          if (view.usage) summary.usage = view.usage;
          const stop = jobStop(view);
          if (stop) summary.stopped = stop;
        }
      } finally {
        // Interrupted or failed: the unfinished table is not left behind (a re-run writes it anew).
        const unfinished = followed ?? (await follower?.stop());
        await unfinished?.writer.abort();
      }
    } finally {
      unsubscribe();
    }
  } finally {
    view.stop();
    await ream.close();
  }
  summary.wallSeconds = (Date.now() - started) / 1000;
  return summary;
}

/**
 * With --retry-failed, the last run's job if it ended with failed rows is retried: only those
 * rows run again (see `Ream.retry`); anything else is carried on as a plain re-run would.
 */
async function retryIfAsked(ream: Ream, job: JobRecord, options: RowsOptions): Promise<JobRecord> {
  if (!options.retryFailed || (job.status !== 'partially_succeeded' && job.status !== 'failed')) return job;
  return ream.retry(job.id);
}

/**
 * Why the file cannot be a table (`empty_file`, `unsupported_type`, `invalid_sheet` for a .xlsx
 * that is no ZIP, …), known from its first bytes as intake would know it: said before any
 * engine starts, rather than after a job read a PDF that has no table to write back.
 */
async function notATable(path: string): Promise<Pick<ErrorInfo, 'code' | 'message'> | undefined> {
  try {
    const { head } = await readHead(path, { maxBytes: Number.MAX_SAFE_INTEGER });
    const mediaType = await sniffFile(path, head, basename(path));
    if (mediaType === CSV_MEDIA_TYPE || mediaType === XLSX_MEDIA_TYPE) return undefined;
    return { code: 'unsupported_type', message: `ream rows reads .csv and .xlsx tables; this is ${mediaType}` };
  } catch (error) {
    const { code, message } = toReamError(error);
    return { code, message };
  }
}

/** Failed rows `ream rows` prints when it writes no table. */
const FAILURES_SHOWN = 10;

/** The summary's row counts when no table is written: every failed row is among the failed pages. */
function countRows(output: DocumentOutput, summary: RowsSummary): void {
  summary.rows = output.pageCount ?? 0;
  summary.failedRows = new Set(output.failedPages.map((failure) => failure.page)).size;
  if (output.failedPages.length > 0) summary.failures = output.failedPages.slice(0, FAILURES_SHOWN);
  if (output.metadata?.columns === undefined && output.error) summary.error = { code: output.error.code, message: output.error.message };
}

async function saveReports(ream: Ream, jobId: string, folder: string, summary: RowsSummary): Promise<void> {
  const artifacts = await ream.artifacts(jobId);
  summary.reports = { total: artifacts.length, written: await writeReports(ream, artifacts, folder), folder };
}

/** The sheet an .xlsx table is written to: the workbook's own, else one named after the output file. */
function tableSheet(sheet: string | undefined, out: string): string {
  return sheet ?? sheetName(basename(out).replace(/\.[^.]*$/, ''));
}

/**
 * Writes the table of `output` to `out`: after the rows `followed` wrote while the job ran when
 * they were written with the same header and sheet, else all of them anew. `pages(after)`: the
 * document's pages after page `after`, a checkpoint's at a time. The field columns are those
 * known from the job's options (`knownFields`), then any other the result has.
 */
async function writeResult(
  output: DocumentOutput,
  knownFields: readonly string[],
  followed: FollowedTable | undefined,
  batches: (after: number, csv: { csvFields?: readonly string[] }) => AsyncIterable<TableBatch>,
  out: string,
  summary: RowsSummary,
): Promise<void> {
  const columns = output.metadata?.columns;
  const sheet = columns === undefined ? undefined : tableSheet(output.metadata?.sheet, out);
  // The rows written are kept only if they were laid out as the result lays them out.
  const fieldNames = [...new Set([...knownFields, ...Object.keys(output.fields)])];
  const kept = followed && columns && sheet === followed.sheet && sameNames(columns, followed.columns) && sameNames(fieldNames, followed.fieldNames) ? followed : undefined;
  if (followed && !kept) await followed.writer.abort();
  if (columns === undefined) {
    // Not a table at all (no header, not a workbook, …): there is no table to write back.
    summary.error = output.error ? { code: output.error.code, message: output.error.message } : { code: 'unsupported_type', message: 'the file was not read as a table' };
    summary.rows = output.pageCount ?? 0;
    summary.failedRows = summary.rows;
    return;
  }
  const layout = tableLayout(columns, fieldNames);
  const counts: RowCounts = kept ? kept.counts : { rows: 0, failedRows: 0 };
  // The input's own columns keep their exact text, unprefixed; the field and error columns ream adds are guarded in a CSV.
  let writer: TableWriter;
  try {
    writer = kept?.writer ?? (await openTableWriter(out, layout.header, sheet, columns.length));
  } catch (error) {
    // A table the output format cannot hold (an .xlsx of more columns than a sheet has): said as
    // the file's failure, with its code; no file was made.
    const refused = toReamError(error);
    if (refused.retryable) throw refused;
    summary.error = { code: refused.code, message: refused.message };
    return;
  }
  try {
    for await (const batch of batches(kept?.pagesWritten ?? 0, csvFieldsOf(writer, layout))) await writeTableBatch(writer, layout, batch, counts);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  summary.rows = counts.rows;
  summary.failedRows = counts.failedRows;
  const dropped = writer.cellsWithDroppedCharacters();
  if (dropped > 0) summary.cellsWithDroppedCharacters = dropped;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** What `ream rows` prints when it ends. */
export function formatRowsSummary(s: RowsSummary, input: string, out: string | undefined): string {
  const rate = s.wallSeconds > 0 ? (s.rows / s.wallSeconds).toFixed(1) : '0';
  // File names and messages may hold line breaks: each line printed is one line (see printable.ts).
  if (s.interrupted) return `interrupted: ${printable(input)} is not finished\nrun the same command again to resume where it stopped`;
  if (s.error) return printable(`failed: ${input}: ${s.error.message} [${s.error.code}]`);
  return [
    `done: ${s.rows - s.failedRows} rows succeeded, ${s.failedRows} failed, of ${s.rows} (${s.batches} batch(es))`,
    `time: ${s.wallSeconds.toFixed(1)} s (${rate} rows/s)`,
    ...(s.usage ? [formatModelUsage(s.usage)] : []),
    ...(s.stopped ? [printable(formatJobStop(s.stopped))] : []),
    ...(s.failures ?? []).map((failure) => printable(`row ${failure.page}: ${failure.message} [${failure.code}]`)),
    ...(out === undefined ? [] : [`table: ${printable(out)}`]),
    ...(s.cellsWithDroppedCharacters
      ? [`note: ${s.cellsWithDroppedCharacters} cell(s) written without control characters an .xlsx cannot hold (tab and line breaks are kept; write .csv to keep them all)`]
      : []),
    ...(s.reports ? [`reports: ${s.reports.total} file(s) in ${s.reports.folder} (${s.reports.written} written now)`] : []),
  ].join('\n');
}
