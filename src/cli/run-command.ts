import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { UsageView } from '../api-types.ts';
import { processBatch } from '../batch/index.ts';
import { isDiskFull } from '../disk-full.ts';
import { ReamError, toReamError } from '../errors.ts';
import { isCharacterDevice } from '../file-kind.ts';
import { fromJson, type JsonObject } from '../json.ts';
import type { Progress } from '../events/types.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import { createReam, type Ream } from '../runtime/create-ream.ts';
import { TERMINAL_DOCUMENT_STATUSES, type JobDocumentRecord, type JobRecord } from '../store/port.ts';
import { collectFiles, type InputFile } from './collect-files.ts';
import { checkOutputSettings, currentJob, outputBase, outputJob, recordOutputSettings } from './job-pointer.ts';
import { localReamOptions, type LocalEngineOptions } from './local-engine.ts';
import { guessResultsBase } from './results-base.ts';
import { createProgressView, type ProgressMode, type ProgressView } from './progress-view.ts';
import { ResultsFile, STDOUT, toResultLine, unreadableLine, type ResultLine, type TextMode } from './results-file.ts';
import { readRulesFile } from './rules-file.ts';
import { RunEta } from './run-eta.ts';
import { createQuietGate } from './run-sweep.ts';
import { checkReportsFolder, reportsFolder, writeReports } from './report-files.ts';
import { reportJobOptions, type ReportFlags } from './report-flags.ts';
import { reportSpec } from '../reports/report-options.ts';
import { publicEndpoint } from '../analyzers/llm/settings.ts';
import { jobStop, type JobStop } from './llm-flags.ts';

/** Longest wait for the job to end once every file has its line (it ends right after its last document). */
const JOB_END_WAIT_MS = 5_000;

export interface RunOptions extends LocalEngineOptions {
  out: string;
  dataDir: string;
  pipeline?: string;
  rules?: string;
  chunkPages?: number;
  maxPages?: number;
  maxSizeMb?: number;
  text: TextMode;
  /** undefined: resume when the output exists. */
  resume?: boolean;
  progress: ProgressMode;
  /** Options of the llm pipeline (from the --llm-* flags); implies `pipeline: 'llm'`. */
  llm?: JsonObject;
  /** The reading options (`ocr`, `ocrLanguages`, `ocrDpi`, `links`, from the --ocr* and --links flags). */
  ocr?: JsonObject;
  /** --template and its flags: a report per document. */
  report?: ReportFlags;
  /** The PDF options (`pdfEngine`, `pdfPassword`, from --pdf-engine and --pdf-password). */
  pdf?: JsonObject;
  /** false (--no-index): the text is not indexed for search. */
  index?: boolean;
  /** --retry-failed: the files whose lines say failed or partially succeeded are run again. */
  retryFailed?: boolean;
}

export interface RunSummary {
  /** The job of this command (kept in the data dir: `ream serve --data-dir` shows it). */
  jobId?: string;
  total: number;
  skipped: number;
  /** Of the skipped files, those whose earlier line is not `succeeded`: the run still did not succeed for them. */
  skippedUnsucceeded: number;
  succeeded: number;
  /** Files only partly read (`partially_succeeded`: a page failed, or a scan left unread); not among `failed`. */
  partial: number;
  failed: number;
  pages: number;
  wallSeconds: number;
  interrupted: boolean;
  /** Model tokens the job spent (LLM pipelines). */
  usage?: UsageView;
  /** Why the job was stopped short, its files' lines written (its token budget spent: `budget_exceeded`). */
  stopped?: JobStop;
  /** Reports the job made, and how many this run wrote (the others were there from an earlier run). */
  reports?: { total: number; written: number; folder: string };
}

function jobOptions(options: RunOptions): JsonObject {
  const job: JsonObject = {};
  if (options.chunkPages !== undefined) job.chunkPages = options.chunkPages;
  if (options.maxPages !== undefined) job.maxPages = options.maxPages;
  if (options.index === false) job.index = false;
  if (options.maxSizeMb !== undefined) job.maxBytes = Math.round(options.maxSizeMb * 1024 * 1024);
  if (options.llm !== undefined) Object.assign(job, options.llm);
  if (options.ocr !== undefined) Object.assign(job, options.ocr);
  if (options.pdf !== undefined) Object.assign(job, options.pdf);
  if (options.rules !== undefined) job.rules = readRulesFile(options.rules);
  if (options.report) Object.assign(job, reportJobOptions(options.report));
  // No text in the lines: the document results need not hold it either (the chunk checkpoints
  // still do, so resuming and `documentPages` work as ever). Only for the plain extract
  // pipeline: analyzers and reports may read a result's pages.
  if (options.text === 'none' && pipelineOf(options) === 'extract' && !options.report) job.pagesInResult = false;
  return job;
}

/**
 * The model a `llm` run's answers come from: the `--llm-model` option, else REAM_LLM_MODEL, and
 * where it is served (the base URL without credentials). Another model's lines are not this one's.
 */
function modelOf(pipeline: string, jobOpts: JsonObject): JsonObject {
  if (pipeline !== 'llm') return {};
  const model = typeof jobOpts.model === 'string' ? jobOpts.model : (process.env.REAM_LLM_MODEL ?? '');
  return { model, endpoint: publicEndpoint(process.env.REAM_LLM_BASE_URL === '' ? undefined : process.env.REAM_LLM_BASE_URL) };
}

function pipelineOf(options: RunOptions): string {
  return options.pipeline ?? (options.llm !== undefined ? 'llm' : options.rules !== undefined ? 'rules' : 'extract');
}

/**
 * `ream run`: processes files into a JSONL file, one line per input file, resumably.
 *
 * Resume works on two levels. The output file names the files already done (their lines are
 * kept and they are skipped). The job — found again through a pointer in the data dir named by
 * the output path, pipeline and options — holds the checkpoints of documents that were in
 * flight, so their finished chunks are not redone.
 */
export async function runCommand(inputs: readonly string[], options: RunOptions, signal: AbortSignal): Promise<RunSummary> {
  const started = Date.now();
  const summary: RunSummary = { total: 0, skipped: 0, skippedUnsucceeded: 0, succeeded: 0, partial: 0, failed: 0, pages: 0, wallSeconds: 0, interrupted: false };
  const outPath = options.out === STDOUT ? STDOUT : resolve(options.out);
  // `--out /dev/null`: written to only, like standard output: no lines to resume from, no
  // settings kept for it, a job of its own each time.
  const writeOnly = outPath === STDOUT || isCharacterDevice(outPath);
  const resume = !writeOnly && (options.resume ?? existsSync(outPath));
  // A results file that could never be written is said before the data dir is made or opened.
  ResultsFile.check(outPath);
  if (options.report) checkReportsFolder(resolve(options.report.outDir));
  const dataDir = resolve(options.dataDir);
  // Lines name files from one folder per results file, whichever folder a resume runs in: its
  // lines are matched by the absolute path they name, and new ones are named the same way.
  // Without a record in this data dir (another folder's `.ream`), guessed from where the files are.
  const base = (resume && outPath !== STDOUT ? outputBase(dataDir, outPath) ?? guessResultsBase(outPath, process.cwd(), inputs) : undefined) ?? process.cwd();
  const files = await collectFiles(inputs, process.cwd(), base);
  const pipeline = pipelineOf(options);
  const jobOpts = jobOptions(options);
  // A template that does not parse, or --pdf without Chromium, is said now: before any file runs.
  if (options.report) reportSpec(jobOpts);
  const fresh = options.resume === false || writeOnly;
  // What the lines of the results file depend on: the job's settings and how text is written.
  const settings: JsonObject = { pipeline, options: jobOpts, text: options.text, ...modelOf(pipeline, jobOpts) };
  if (resume && existsSync(outPath)) checkOutputSettings(dataDir, outPath, settings, options.retryFailed ? RETRY_MAY_CHANGE : []);
  if (options.retryFailed && (writeOnly || fresh)) {
    throw ReamError.nonRetryable('validation_failed', `--retry-failed reruns what an earlier run wrote to --out: it cannot go with ${writeOnly ? `--out ${options.out}` : '--no-resume'}`);
  }
  let results: ResultsFile | undefined;
  let view: ProgressView | undefined;
  let ream: Ream | undefined;
  try {
    // A full disk found by the worker (a checkpoint or result not written) ends the run as one
    // found while adding a file does: every task would fail alike until space is freed.
    const diskFull = new AbortController();
    ream = await createReam({ ...localReamOptions(options.dataDir, options), onDiskFull: (error) => diskFull.abort(error) });
    // Opened once the data dir is this run's: a --no-resume refused because another process
    // holds it must not have emptied the results file it would have replaced.
    const lines = ResultsFile.open(outPath, resume, base);
    results = lines;
    const job = await retriedIfAsked(ream, await currentJob(ream, dataDir, { out: outPath, pipeline, options: jobOpts }, fresh), options);
    if (options.retryFailed) lines.redo(redoneLine(files));
    const pending = files.filter((file) => !lines.has(file.absolute));
    // Attachments of these files that have their line already count as files done, as they did
    // in the run that wrote them (the others are counted as they are found).
    const inputs = new Set(files.map((file) => file.absolute));
    const doneAttachments = lines.earlier().filter(([absolute]) => isAttachmentOf(absolute, inputs));
    summary.total = files.length + doneAttachments.length;
    summary.skipped = files.length - pending.length + doneAttachments.length;
    summary.skippedUnsucceeded = files.filter((file) => lines.endedUnsucceeded(file.absolute)).length +
      doneAttachments.filter(([, status]) => status !== 'succeeded').length;
    view = createProgressView(options.progress, pending.length);
    if (!writeOnly) {
      // Started over with other settings (another job): the job whose lines this replaces goes too.
      const replaced = fresh ? outputJob(dataDir, outPath) : undefined;
      recordOutputSettings(dataDir, outPath, settings, base, job.id);
      if (replaced !== undefined && replaced !== job.id) await ream.deleteJob(replaced).catch(ignoreNotFound);
    }
    summary.jobId = job.id;
    const tracker = new RunTracker(ream, job.id, lines, options.text, view, summary);
    const stopAtDiskFull = (): void => tracker.fail(toReamError(diskFull.signal.reason));
    if (diskFull.signal.aborted) stopAtDiskFull();
    else diskFull.signal.addEventListener('abort', stopAtDiskFull, { once: true });
    const unsubscribe = ream.subscribe({ jobId: job.id }, (event) => {
      if (event.type === 'document.completed' || event.type === 'document.failed') {
        if (event.documentId) tracker.documentEnded(event.documentId, 'event');
      }
      tracker.progress(event.progress);
    });
    await tracker.adoptUnwrittenChildren();
    const done = tracker.allWritten(pending.length);
    tracker.expectFiles(pending.length);
    const aborted = new Promise<'aborted'>((resolveAbort) => {
      if (signal.aborted) resolveAbort('aborted');
      signal.addEventListener('abort', () => resolveAbort('aborted'), { once: true });
    });
    // A safety net under the events: every few seconds, documents that ended without a line
    // (an event lost to a failure between storing and publishing) get theirs.
    const sweep = setInterval(() => void tracker.sweep(), 3000).unref();
    // Held while the files go in: tiny files are read faster than they are added, and the job
    // would otherwise end and reopen between two of them (a `job.completed` each time).
    const release = ream.holdOpen(job.id);
    // Adding stops at Ctrl-C, and at a failure that ends the run (a full disk).
    const adding = AbortSignal.any([signal, tracker.stopped]);
    try {
      await processBatch(pending, (file) => tracker.add(file, adding), { concurrency: 4, signal: adding, retry: { maxAttempts: 1 } });
    } finally {
      await release();
    }
    const outcome = await Promise.race([done.then(() => 'done' as const), aborted]);
    clearInterval(sweep);
    summary.interrupted = outcome === 'aborted';
    await tracker.settled();
    unsubscribe();
    // Every file has its line; the job ends right after its last document (its end says why it
    // was stopped short, if it was): waited for a moment, not for good.
    if (!summary.interrupted) await ream.wait(job.id, { signal: AbortSignal.timeout(JOB_END_WAIT_MS) }).catch(() => undefined);
    const ended = await ream.jobView(await ream.getJob(job.id) ?? job);
    // What the view shows last is the job as it ended: its last event came before the last lines
    // were written, and may carry counts read a moment earlier (reused for a big job).
    tracker.progress(ended.progress);
    if (ended.usage) summary.usage = ended.usage;
    const stop = jobStop(ended);
    if (stop) summary.stopped = stop;
    if (options.report && !summary.interrupted) {
      const artifacts = await ream.artifacts(job.id);
      const folder = reportsFolder(resolve(options.report.outDir), job);
      summary.reports = { total: artifacts.length, written: await writeReports(ream, artifacts, folder), folder };
    }
  } finally {
    view?.stop();
    await ream?.close();
    results?.close();
  }
  summary.wallSeconds = (Date.now() - started) / 1000;
  return summary;
}

/** A job removed already (by hand, or with its data dir's records) needs no removing. */
function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ReamError && error.code === 'not_found')) throw error;
}

/**
 * Options a --retry-failed run may give anew: they open what could not be opened, and change
 * nothing in what was read (a file read without a password reads the same with one). Another
 * value makes the run's job another one, which reads the failed files whole.
 */
const RETRY_MAY_CHANGE: readonly string[] = ['pdfPassword'];

/** The line states --retry-failed runs again: what a job retry redoes. */
const REDONE_STATUSES: readonly string[] = ['failed', 'partially_succeeded'] satisfies ResultLine['status'][];

/**
 * Which lines --retry-failed takes out of the results file: failed or partial ones of this run's
 * files, and of the attachments found in them (named `<message>#<n>/<name>`), whose documents
 * the job retry runs again.
 */
function redoneLine(files: readonly InputFile[]): (absolute: string, status: string) => boolean {
  const inputs = new Set(files.map((file) => file.absolute));
  return (absolute, status) => REDONE_STATUSES.includes(status) && (inputs.has(absolute) || isAttachmentOf(absolute, inputs));
}

/** Whether a line's path names an attachment (`<file>#<n>/<name>`, at any depth) of one of these input files. */
function isAttachmentOf(absolute: string, inputs: ReadonlySet<string>): boolean {
  if (inputs.has(absolute)) return false;
  for (let at = absolute.indexOf('#'); at !== -1; at = absolute.indexOf('#', at + 1)) {
    if (inputs.has(absolute.slice(0, at))) return true;
  }
  return false;
}

/**
 * --retry-failed: the job of the last run, if it ended with failed or partial documents, runs
 * them again (only their failed parts). A job still running — the last run was interrupted —
 * is refused: its files must end first, and the run without the flag finishes them.
 */
async function retriedIfAsked(ream: Ream, job: JobRecord, options: RunOptions): Promise<JobRecord> {
  if (!options.retryFailed) return job;
  // A job made just now (a --pdf-password given anew makes another job): nothing of it to retry.
  if ((await ream.counts(job.id)).documentsTotal === 0) return job;
  if (job.status === 'queued' || job.status === 'running') {
    throw ReamError.nonRetryable('validation_failed', 'the last run of this command did not finish: run it again without --retry-failed to finish it, then retry what failed');
  }
  if (job.status !== 'partially_succeeded' && job.status !== 'failed') return job; // files that could not be read are simply added again
  return ream.retry(job.id);
}

/** Waiting documents a sweep looks up at most (see {@link RunTracker.sweep}). */
export const SWEEP_LOOKUPS = 64;

/** Maps documents back to the files they came from and writes each file's line exactly once. */
export class RunTracker {
  readonly #ream: Ream;
  readonly #jobId: string;
  readonly #results: ResultsFile;
  readonly #text: TextMode;
  readonly #view: ProgressView;
  readonly #summary: RunSummary;
  /** documentId → files with that content still waiting for their line. */
  readonly #waiting = new Map<string, InputFile[]>();
  #written = 0;
  /** Files added to the job (or found unreadable) by this run so far. */
  #added = 0;
  #filesTotal = 0;
  #expected = Infinity;
  /** Child documents (attachments) waited for: each adds a line to write. */
  #children = 0;
  #onAllWritten: (() => void) | undefined;
  #onWriteFailed: ((error: ReamError) => void) | undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #adding = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #eta = new RunEta();
  #sweeping: Promise<void> | undefined;
  readonly #quiet = createQuietGate();

  constructor(ream: Ream, jobId: string, results: ResultsFile, text: TextMode, view: ProgressView, summary: RunSummary) {
    this.#ream = ream;
    this.#jobId = jobId;
    this.#results = results;
    this.#text = text;
    this.#view = view;
    this.#summary = summary;
  }

  /** Aborts when the run cannot go on (see {@link fail}): no further file is added. */
  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  /** Resolves once `expected` files and every child document found along the way have their line. */
  allWritten(expected: number): Promise<void> {
    this.#expected = expected + this.#children;
    return new Promise((resolveAll, rejectAll) => {
      this.#onAllWritten = resolveAll;
      this.#onWriteFailed = rejectAll;
      this.#checkAllWritten();
    });
  }

  /** Stores one file in the job; if its content already has a result (a resumed run), writes it now. */
  add(file: InputFile, signal: AbortSignal): Promise<void> {
    const adding = this.#add(file, signal);
    this.#adding.add(adding);
    return adding.finally(() => this.#adding.delete(adding));
  }

  /** Resolves once no file is being added: the store must stay open until then. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#adding]);
    await this.#chain;
  }

  async #add(file: InputFile, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    let documentId: string;
    try {
      ({ documentId } = await this.#ream.addFile(this.#jobId, { path: file.absolute, source: file.display }));
    } catch (error) {
      if (signal.aborted) return; // interrupted: the file is simply not done, the next run adds it
      const reamError = toReamError(error);
      // A full disk fails every file alike, and is not the file's fault: the run stops, and the
      // next one (once there is room) does this file and the rest, where a failed line would stay.
      if (isDiskFull(error)) {
        this.fail(reamError);
        return;
      }
      this.#added++;
      this.#writeLine(unreadableLine(file.display, { code: reamError.code, message: reamError.message }));
      return;
    }
    this.#added++;
    const list = this.#waiting.get(documentId) ?? [];
    list.push(file);
    this.#waiting.set(documentId, list);
    const jobDoc = await this.#ream.jobDocument(this.#jobId, documentId);
    if (jobDoc && TERMINAL_DOCUMENT_STATUSES.includes(jobDoc.status)) this.documentEnded(documentId);
  }

  /**
   * Looks up at most {@link SWEEP_LOOKUPS} waiting documents, those waiting longest first, each
   * then put last in line: a document whose event was lost is still found, in turn, and a slow
   * job (OCR, a model) with 10,000 files queued costs 64 look-ups every few seconds rather than
   * 10,000 at once. A sweep still under way is not started again, and none is made while end
   * events arrive (run-sweep.ts).
   */
  sweep(): Promise<void> {
    if (!this.#quiet.quiet()) return Promise.resolve();
    this.#sweeping ??= (async () => {
      const turn: string[] = [];
      for (const [documentId, files] of this.#waiting) {
        if (turn.length >= SWEEP_LOOKUPS) break;
        turn.push(documentId);
        this.#waiting.delete(documentId); // last in line: a Map's order is the order set
        this.#waiting.set(documentId, files);
      }
      await Promise.all(turn.map((documentId) => this.#ream.jobDocument(this.#jobId, documentId).then(
        (jobDoc) => { if (jobDoc && TERMINAL_DOCUMENT_STATUSES.includes(jobDoc.status)) this.documentEnded(documentId); },
        () => undefined, // the next sweep tries again
      )));
    })().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** `from`: `event` when the job's end event said so (the events are flowing), else found by looking. */
  documentEnded(documentId: string, from?: 'event'): void {
    if (from === 'event') this.#quiet.heard();
    // Serialised: lines are written in the order documents end, one at a time.
    this.#chain = this.#chain.then(async () => {
      const files = this.#waiting.get(documentId);
      if (!files?.length) return;
      const result = await this.#ream.documentResult(this.#jobId, documentId);
      if (!result) return; // not stored yet: a later event (or the resume) writes it
      this.#waiting.delete(documentId);
      // Children first: the run must not count itself done on the parent's line while they run.
      await this.#awaitChildren(documentId);
      for (const file of files) {
        this.#writeLine(toResultLine(file.display, fromJson<DocumentOutput>(result.output), this.#text));
      }
    }).catch((error: unknown) => {
      // A results file that cannot be written (a full disk) ends the run, with its code: the
      // lines could never all be written, and waiting for them would wait forever.
      this.fail(toReamError(error));
    });
  }

  /** Ends the run with `error`: no further file is added, and the run's wait for its lines rejects. */
  fail(error: ReamError): void {
    this.#stop.abort(error);
    this.#onWriteFailed?.(error);
  }

  /**
   * A document's children (an e-mail's attachments) each get a line of their own, named by their
   * source in the job (`mail.eml#1/report.pdf`): they were attached when their parent was
   * inspected, so by the time the parent ended they are all known, and the run waits for them.
   */
  async #awaitChildren(parentId: string): Promise<void> {
    this.#adopt(await this.#ream.jobDocuments(this.#jobId, { parentId }));
  }

  /**
   * A resumed run: children of files done before whose lines were not written yet (the run
   * stopped between a message's line and its attachments') are waited for like the new files.
   */
  async adoptUnwrittenChildren(): Promise<void> {
    this.#adopt((await this.#ream.jobDocuments(this.#jobId)).filter((doc) => doc.parentId !== undefined));
  }

  #adopt(children: readonly JobDocumentRecord[]): void {
    for (const child of children) {
      if (this.#results.has(child.source)) continue;
      if (this.#waiting.has(child.documentId)) continue;
      this.#waiting.set(child.documentId, [{ absolute: child.source, display: child.source }]);
      this.#children++;
      this.#expected++;
      this.#filesTotal++;
      this.#added++;
      this.#summary.total++;
      if (TERMINAL_DOCUMENT_STATUSES.includes(child.status)) this.documentEnded(child.documentId);
    }
  }

  /** How many files this run adds: until all are in, the page total is still growing. */
  expectFiles(count: number): void {
    this.#filesTotal = count + this.#children;
  }

  progress(progress: Progress): void {
    this.#view.update({
      filesDone: this.#written,
      filesTotal: this.#filesTotal,
      // Until every file is in and inspected, the page total is still growing.
      counting: this.#added < this.#filesTotal || (progress.documentsUncounted ?? 0) > 0,
      pagesDone: progress.pagesDone,
      pagesTotal: progress.pagesTotal,
      etaSeconds: this.#eta.estimate(progress, this.#filesTotal - this.#added),
    });
  }

  #writeLine(line: ReturnType<typeof toResultLine>): void {
    if (!this.#results.write(line)) return;
    this.#written++;
    if (line.status === 'succeeded') this.#summary.succeeded++;
    else if (line.status === 'partially_succeeded') this.#summary.partial++;
    else this.#summary.failed++;
    if (line.status !== 'failed') this.#summary.pages += line.pageCount ?? 0;
    this.#view.documentEnded(line);
    this.#checkAllWritten();
  }

  #checkAllWritten(): void {
    if (this.#written >= this.#expected) this.#onAllWritten?.();
  }
}
