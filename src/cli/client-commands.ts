/**
 * `ream submit | jobs | status | wait | search | cancel | download`: the CLI side of `ream/client`, talking to a running
 * `ream serve`. Exit codes: 0 the job succeeded (or the command did its work), 1 the job ended
 * partially_succeeded or failed, 130 the job was cancelled, 2 usage and HTTP/connection errors
 * (printed as `ream: <message> [code]` by main).
 */
import { createWriteStream, fstatSync, openSync, rmSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option, type CommanderError } from 'commander';
import { ReamError } from '../errors.ts';
import { fetchFailureReason } from '../client/errors.ts';
import { parseJsonObject } from '../json.ts';
// Values from api-types.ts, not the SDK's index: that loads the SDK and tus-js-client, which a
// `ream run` (this module is registered by main.ts for every command) never uses.
import { CSV_FORMULA_MODES, DOWNLOAD_FORMATS } from '../api-types.ts';
import type { CsvFormulaMode, DownloadFormat, JobStatus, JobView, PriorityName, ReamClient, ReamEvent } from '../client/index.ts';
import { positiveNumber } from './parse-flags.ts';
import { highlightsMatches, searchHitLine } from './search-hit-line.ts';
import { TERMINAL_EVENT_TYPES } from '../events/types.ts';
import { JOB_STATUSES, TERMINAL_JOB_STATUSES } from '../store/job-store.ts';
import { jobSummaryLines } from './job-summary.ts';
import { printable } from './printable.ts';
import { writeFailure } from './write-failure.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
/** Files over this many MiB go over tus (resumable) unless `--upload-threshold` says otherwise. */
export const DEFAULT_UPLOAD_THRESHOLD_MIB = 32;
const PRIORITY_NAMES: readonly PriorityName[] = ['low', 'normal', 'high', 'critical'];
/** `ream jobs --limit`: more than this is a job for the API's cursor. */
const MAX_JOBS_LISTED = 10_000;

/** Exit code for a finished job: 0 succeeded, 1 partially_succeeded or failed, 130 cancelled. */
export function exitCodeFor(status: JobView['status']): number {
  if (status === 'succeeded') return 0;
  if (status === 'cancelled') return 130;
  if (status === 'partially_succeeded' || status === 'failed') return 1;
  return 0; // still queued or running (only `status`/`cancel` can see these; they do not wait)
}

export function progressLine(event: ReamEvent): string {
  const p = event.progress;
  const eta = p.etaSeconds === null ? '' : `  eta ${p.etaSeconds}s`;
  return `${p.percent.toFixed(1).padStart(5)}%  pages ${p.pagesDone}/${p.pagesTotal}  documents ${p.documentsDone}/${p.documentsTotal}${eta}  ${event.type}`;
}

/** One line of `ream jobs`: tab-separated, so that `cut` and `awk` take it apart. */
export function jobLine(job: JobView, withTenant: boolean): string {
  const documents = job.counts.documents;
  const ended = documents.succeeded + documents.partiallySucceeded + documents.failed + documents.cancelled;
  const fields = [job.id, job.status, job.pipeline, `${job.progress.percent.toFixed(1)}%`, `${ended}/${documents.total} documents`, job.createdAt];
  return (withTenant ? [job.tenantId, ...fields] : fields).join('\t');
}

function usage(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}


/** Where unfinished uploads are remembered, so that running the same `ream submit` again resumes them. */
export function uploadStateDir(): string {
  const cache = process.env.XDG_CACHE_HOME;
  return join(cache !== undefined && cache !== '' ? cache : join(homedir(), '.cache'), 'ream');
}

/** A client for `--server` (an empty REAM_SERVER counts as unset); REAM_API_KEY, if set, is sent as a bearer token. */
async function clientFor(server: string): Promise<ReamClient> {
  const baseUrl = server === '' ? DEFAULT_SERVER : server;
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) throw usage(`--server must be an http(s) URL, not "${baseUrl}"`);
  const apiKey = process.env.REAM_API_KEY;
  // Loaded when a command runs: the other commands, and `--help`, start without the HTTP client.
  const { ReamClient } = await import('../client/index.ts');
  return new ReamClient({ baseUrl, uploadResumeDir: uploadStateDir(), ...(apiKey ? { apiKey } : {}) });
}

/** A stderr line per upload each time it passes another tenth of its size. */
function uploadProgress(): (file: string, sent: number, total: number | null) => void {
  const shown = new Map<string, number>();
  return (file, sent, total) => {
    if (total === null || total === 0) return;
    const tenth = Math.floor((sent / total) * 10);
    if (tenth <= (shown.get(file) ?? -1)) return;
    shown.set(file, tenth);
    process.stderr.write(`uploading ${printable(file)}: ${tenth * 10}% of ${(total / 1024 ** 2).toFixed(1)} MiB\n`);
  };
}

/** Commander's own parse errors (unknown option, missing argument) become usage errors: exit 2 via main. */
function usageErrorsExit2(command: Command): Command {
  return command
    .configureOutput({ outputError: () => undefined })
    .exitOverride((error: CommanderError) => {
      if (error.exitCode === 0) return; // --help: commander exits 0 itself
      throw usage(error.message.replace(/^error: /, ''));
    });
}

function serverOption(): Option {
  return new Option('--server <url>', 'ream server').env('REAM_SERVER').default(DEFAULT_SERVER);
}

/** At most one progress line this often: the events a job has had so far come back in a burst. */
const PROGRESS_EVERY_MS = 1_000;

/**
 * Follows the job to its end, a progress line on stderr at most every {@link PROGRESS_EVERY_MS}
 * (and the last); prints its status on stdout (alone there, for scripts) and its summary on
 * stderr ({@link jobSummaryLines}); sets the exit code. A job that has ended already is answered
 * at once, without its history.
 */
async function follow(client: ReamClient, id: string): Promise<JobView> {
  const current = await client.getJob(id);
  let job = current;
  if (!TERMINAL_JOB_STATUSES.includes(current.status)) {
    let printedAt = 0;
    job = await client.wait(id, {
      onProgress: (_progress, event) => {
        const now = Date.now();
        if (now - printedAt < PROGRESS_EVERY_MS && !TERMINAL_EVENT_TYPES.has(event.type)) return;
        printedAt = now;
        process.stderr.write(`${progressLine(event)}\n`);
      },
    });
  }
  process.exitCode = exitCodeFor(job.status);
  process.stdout.write(`${job.status}\n`);
  process.stderr.write(jobSummaryLines(job).map((line) => `${line}\n`).join(''));
  return job;
}


export function registerClientCommands(program: Command): void {
  usageErrorsExit2(
    program
      .command('submit')
      .description('submit files to a ream server as one job; prints the job id')
      .argument('<files...>', 'files to process (streamed from disk)')
      .addOption(serverOption())
      .option('-p, --pipeline <name>', 'pipeline: extract (default), rules, rows, llm, report, or one the server registered (GET /v1/pipelines)')
      .option('--options <json>', 'pipeline options as a JSON object, e.g. \'{"chunkPages":25}\'')
      .option('--priority <name>', `job priority: ${PRIORITY_NAMES.join(', ')}`)
      .option('--idempotency-key <key>', 'a repeat with the same key answers the first job')
      .option(
        '--upload-threshold <MiB>',
        `files larger than this go over tus first, in chunks; an interrupted upload resumes when the command runs again (default ${DEFAULT_UPLOAD_THRESHOLD_MIB})`,
        positiveNumber,
      )
      .option('--wait', 'follow the job to its end (progress on stderr), print its final status (and its summary on stderr, as ream wait) and exit by it')
      .action(async (files: string[], flags: { server: string; pipeline?: string; options?: string; priority?: string; idempotencyKey?: string; uploadThreshold?: number; wait?: boolean }) => {
        const priority = flags.priority;
        if (priority !== undefined && !PRIORITY_NAMES.includes(priority as PriorityName)) {
          throw usage(`--priority must be one of ${PRIORITY_NAMES.join(', ')}`);
        }
        const options = flags.options === undefined ? undefined : parseJsonObject(flags.options, '--options');
        const client = await clientFor(flags.server);
        const job = await client.submit({
          files,
          uploadThresholdBytes: Math.floor((flags.uploadThreshold ?? DEFAULT_UPLOAD_THRESHOLD_MIB) * 1024 ** 2),
          onUploadProgress: uploadProgress(),
          ...(flags.pipeline === undefined ? {} : { pipeline: flags.pipeline }),
          ...(options === undefined ? {} : { options }),
          ...(priority === undefined ? {} : { priority: priority as PriorityName }),
          ...(flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey }),
        });
        process.stdout.write(`${job.id}\n`);
        if (flags.wait) await follow(client, job.id);
      }),
  );

  usageErrorsExit2(
    program
      .command('jobs')
      .description('list the jobs of a ream server, newest first (or --oldest-first); one line per job: id, status, pipeline, percent, documents, created')
      .addOption(serverOption())
      .addOption(new Option('--status <status>', 'only jobs in this status').choices([...JOB_STATUSES]))
      .option('-n, --limit <n>', `jobs to print, 1–${MAX_JOBS_LISTED} (default 20)`, positiveNumber)
      .option('--tenant <id>', 'admins: another tenant\'s jobs, or * for every tenant\'s')
      .option('--search <text>', 'only jobs whose id starts with it or whose pipeline name holds it (letters in either case)')
      .option('--oldest-first', 'list the oldest jobs first')
      .option('--json', 'print the jobs as one JSON array')
      .action(async (flags: { server: string; status?: JobStatus; limit?: number; tenant?: string; search?: string; oldestFirst?: boolean; json?: boolean }) => {
        const limit = flags.limit ?? 20;
        if (!Number.isInteger(limit) || limit > MAX_JOBS_LISTED) throw usage(`--limit must be an integer from 1 to ${MAX_JOBS_LISTED}`);
        const client = await clientFor(flags.server);
        const jobs: JobView[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listJobs({
            limit: Math.min(limit - jobs.length, 500),
            ...(flags.status === undefined ? {} : { status: flags.status }),
            ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
            ...(flags.search === undefined ? {} : { q: flags.search }),
            ...(flags.oldestFirst === true ? { sort: 'created' as const } : {}),
            ...(cursor === undefined ? {} : { cursor }),
          });
          jobs.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && jobs.length < limit);
        if (flags.json) process.stdout.write(`${JSON.stringify(jobs)}\n`);
        else for (const job of jobs) process.stdout.write(`${jobLine(job, flags.tenant !== undefined)}\n`);
      }),
  );

  usageErrorsExit2(
    program
      .command('status')
      .description('print a job of a ream server as JSON')
      .argument('<id>', 'job id')
      .addOption(serverOption())
      .action(async (id: string, flags: { server: string }) => {
        const job = await (await clientFor(flags.server)).getJob(id);
        process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
      }),
  );

  usageErrorsExit2(
    program
      .command('wait')
      .description('follow a job to its end (progress on stderr); print its status, then on stderr its documents, pages, model tokens and why it stopped short or failed; exit 0 succeeded, 1 partially_succeeded/failed, 130 cancelled')
      .argument('<id>', 'job id')
      .addOption(serverOption())
      .action(async (id: string, flags: { server: string }) => {
        await follow(await clientFor(flags.server), id);
      }),
  );

  usageErrorsExit2(
    program
      .command('search')
      .description('full-text search over the pages your jobs indexed; prints one hit per line: document id, file name, page, snippet (matches in bold on a terminal)')
      .argument('[words...]', 'words that must all occur on the page (none: with a filter, the first page of each matching document, newest first)')
      .addOption(serverOption())
      .option('-n, --limit <n>', 'hits to print, 1–100 (default 20)', positiveNumber)
      .option('--job <id>', 'only documents this job indexed')
      .option('--type <type>', 'a media type (application/pdf) or a family: pdf, image, sheet, word, html, text, email')
      .option('--from <time>', 'indexed at or after: 2026-12-01 (UTC day), an ISO date-time with a zone, or epoch ms')
      .option('--to <time>', 'indexed at or before: 2026-12-01 (the whole UTC day), an ISO date-time with a zone, or epoch ms')
      .option('--field <name=value>', 'an extracted field value the document holds (case-insensitive, whole value); repeatable', collectField, [])
      .option('--cursor <cursor>', 'the hits after a previous page (the cursor it printed on stderr)')
      .option('--all', 'every page of hits, --limit at a time (up to 10,000 hits)')
      .option('--json', 'print the hits as one JSON array')
      .action(async (words: string[], flags: SearchFlags) => {
        const { server, limit, job, type, from, to, field } = flags;
        const options = {
          ...(limit === undefined ? {} : { limit }), ...(job === undefined ? {} : { jobId: job }), ...(type === undefined ? {} : { type }),
          ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), fields: field,
        };
        const client = await clientFor(server);
        const hits = [];
        const bold = highlightsMatches(process.stdout);
        let cursor = flags.cursor;
        for (;;) {
          const page = await client.searchPage(words.join(' '), { ...options, ...(cursor === undefined ? {} : { cursor }) });
          hits.push(...page.items);
          if (!flags.json) for (const hit of page.items) process.stdout.write(searchHitLine(hit, bold));
          cursor = page.nextCursor ?? undefined;
          if (cursor === undefined || flags.all !== true) break;
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(hits)}\n`);
        // Where the next page starts, for a later --cursor (stdout stays the hits alone).
        if (cursor !== undefined) process.stderr.write(`more hits: --cursor ${cursor}\n`);
      }),
  );

  usageErrorsExit2(
    program
      .command('delete-document')
      .description('delete a stored document (its bytes too, unless another document has the same content); refused while an unfinished job uses it')
      .argument('<id>', 'document id')
      .addOption(serverOption())
      .action(async (id: string, flags: { server: string }) => {
        await (await clientFor(flags.server)).deleteDocument(id);
        process.stdout.write(`deleted ${id}\n`);
      }),
  );

  usageErrorsExit2(
    program
      .command('cancel')
      .description('cancel a job (or one document of it, --document; what has ended keeps its status); print the job\'s status')
      .argument('<id>', 'job id')
      .addOption(serverOption())
      .option('--document <documentId>', 'only this document: its queued work never runs, its running work is aborted, the others go on')
      .action(async (id: string, flags: { server: string; document?: string }) => {
        const client = await clientFor(flags.server);
        const job = flags.document === undefined ? await client.cancel(id) : await client.cancelDocument(id, flags.document);
        process.stdout.write(`${job.status}\n`);
      }),
  );

  usageErrorsExit2(
    program
      .command('download')
      .description('save the results of a job\'s ended documents (or of one, --document) as json, ndjson, csv or xlsx; prints the file written')
      .argument('<id>', 'job id')
      .addOption(serverOption())
      .addOption(new Option('-f, --format <format>', 'json and ndjson: the full results; csv and xlsx: a row per page, a column per field').choices([...DOWNLOAD_FORMATS]).default('csv'))
      .option('--document <documentId>', 'one document of the job only')
      .addOption(new Option('--csv-formulas <mode>', 'csv: escape prefixes text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR) with \'; keep writes them as they are').choices([...CSV_FORMULA_MODES]).default('escape'))
      .option('-o, --out <file>', 'where to write it (default: the name the server gives, in the current folder; - for stdout)')
      .action(async (id: string, flags: { server: string; format: DownloadFormat; document?: string; csvFormulas: CsvFormulaMode; out?: string }) => {
        const client = await clientFor(flags.server);
        const file = await client.download(id, { format: flags.format, formulas: flags.csvFormulas, ...(flags.document === undefined ? {} : { documentId: flags.document }) });
        const body = Readable.fromWeb(file.body);
        if (flags.out === '-') {
          try {
            await pipeline(body, process.stdout, { end: false });
          } catch (error) {
            // `| head`: the reader has what it wanted and closed the pipe. Not a failure.
            if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
            body.destroy();
          }
          return;
        }
        // The server's name is a file name of its own making; basename() keeps it in this folder regardless.
        const out = flags.out ?? basename(file.name);
        // The file's failures (a folder that is not there, a file that cannot be opened or written) are io_error naming it; the server's stay its own.
        await saveWhole(body, out, `${flags.server} job ${id}`);
        process.stdout.write(`${out}\n`);
      }),
  );
}

/**
 * Streams `body` to `out` through a hidden `.<name>.part` beside it, renamed into place only once
 * the body has ended: a download cut off midway (the server gone, the connection dropped, fewer
 * bytes than its Content-Length, which fetch reports as an error) leaves no file that looks
 * complete, and an earlier `out` stays as it was. Beside it, not in the temp folder, so the
 * rename stays on one file system and is atomic. Its name is the target's, not a random one, so
 * that a `.part` a killed download (SIGKILL, a lost machine) left is replaced by the next
 * download to the same file, never added to nor left to pile up; Ctrl-C or SIGTERM removes it.
 */
async function saveWhole(body: Readable, out: string, source: string): Promise<void> {
  const partial = partFile(out);
  // An earlier download's leftover: removed, and the new one made afresh ('wx'), never appended to.
  // At once (no await): the body may fail while nothing listens to it yet.
  try {
    rmSync(partial, { force: true });
  } catch (error) {
    throw writeFailure(`the download ${out}`, error);
  }
  let sink;
  let own: () => boolean;
  try {
    const fd = openSync(partial, 'wx');
    own = ownedFile(partial, fd);
    sink = createWriteStream(partial, { fd });
  } catch (error) {
    throw writeFailure(`the download ${out}`, error);
  }
  const stopped = removeOnStop(partial, own, [body, sink]);
  // pipeline() hands the first failure on to the other stream, so both emit it: which one emitted it first says whose it is.
  let failed: 'file' | 'body' | undefined;
  sink.once('error', () => {
    failed ??= 'file';
  });
  body.once('error', () => {
    failed ??= 'body';
  });
  try {
    await pipeline(body, sink);
  } catch (error) {
    if (own()) await rm(partial, { force: true });
    if (failed === 'file') throw writeFailure(`the download ${out}`, error);
    if (error instanceof ReamError) throw error;
    throw ReamError.retryable('io_error', `the download from ${source} broke off before its end (${fetchFailureReason(error)}); ${out} is not written`, { cause: error });
  } finally {
    stopped();
  }
  // Another download to the same file replaced the .part midway: its half-written file is not this one's to put in place.
  if (!own()) throw writeFailure(`the download ${out}`, new Error(`another download to ${out} replaced ${partial} while this one was written; ${out} is left to it`));
  try {
    await rename(partial, out);
  } catch (error) {
    if (own()) await rm(partial, { force: true });
    throw writeFailure(`the download ${out}`, error);
  }
}

/**
 * Whether `path` is still the file opened as `fd`: a later download to the same target removes
 * a `.part` it finds and makes its own, and this one must then neither remove nor rename that.
 */
function ownedFile(path: string, fd: number): () => boolean {
  const made = fstatSync(fd);
  return () => {
    try {
      const now = statSync(path);
      return now.ino === made.ino && now.dev === made.dev;
    } catch {
      return false;
    }
  };
}

/** The `.part` file a download to `out` is written to first (see {@link saveWhole}). */
function partFile(out: string): string {
  return join(dirname(out), `.${basename(out)}.part`);
}

/** Exit codes of a command stopped by a signal: 128 + its number, as a shell reports it. */
const SIGNAL_EXIT: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Until the returned function is called, SIGINT and SIGTERM stop the download: `streams` closed,
 * `partial` removed (if still its `own`), and the process exits as the signal would have ended it
 * (130, 143). Without this the signal ends the process at once and the `.part` stays.
 */
function removeOnStop(partial: string, own: () => boolean, streams: ReadonlyArray<{ destroy(): unknown }>): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const stream of streams) stream.destroy();
    if (own()) rmSync(partial, { force: true });
    process.stderr.write(`ream: the download was stopped (${signal}); nothing is written\n`);
    process.exit(SIGNAL_EXIT[signal as keyof typeof SIGNAL_EXIT]);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

interface SearchFlags {
  server: string;
  limit?: number;
  job?: string;
  type?: string;
  from?: string;
  to?: string;
  field: Array<[string, string]>;
  cursor?: string;
  all?: boolean;
  json?: boolean;
}

/** `--field name=value`, repeatable: split at the first `=` (a value may hold one). */
function collectField(pair: string, earlier: Array<[string, string]>): Array<[string, string]> {
  const at = pair.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--field takes name=value (got ${JSON.stringify(pair)})`);
  return [...earlier, [pair.slice(0, at), pair.slice(at + 1)]];
}
