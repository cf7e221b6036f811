import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ReamError } from '../errors.ts';
import type { Ream } from '../runtime/create-ream.ts';
import { LIBRARY_USE_FILE, openedByLibrary } from '../runtime/ream.ts';
import { DEFAULT_TENANT, TERMINAL_JOB_STATUSES } from '../store/port.ts';

/** What `ream gc` found, removed and gave back. */
export interface GcSummary {
  /**
   * Ended jobs that no `ream run` or `ream rows` command resumes: an older version's `--no-resume`
   * kept the job it replaced (finished or cancelled), with its results, checkpoints and events.
   */
  unpointedJobs: number;
  /** Whether they were removed (`--remove`), with the documents no job uses. */
  removed: boolean;
  /** Stored documents no job used any more, removed with the blobs that only they held. */
  documents: number;
  blobs: number;
  bytes: number;
  databaseBytesBefore: number;
  databaseBytesAfter: number;
  emptyFolders: number;
  tempFiles: number;
}

/**
 * The jobs the data dir's commands point to (`runs/*.json`: the job of a `ream run` or `ream
 * rows` command, and the job whose lines a results file holds): those a later run resumes.
 */
export function pointedJobs(dataDir: string): Set<string> {
  const folder = join(dataDir, 'runs');
  const jobs = new Set<string>();
  if (!existsSync(folder)) return jobs;
  for (const name of readdirSync(folder)) {
    if (!name.endsWith('.json')) continue;
    try {
      const { jobId } = JSON.parse(readFileSync(join(folder, name), 'utf8')) as { jobId?: unknown };
      if (typeof jobId === 'string') jobs.add(jobId);
    } catch {
      // a torn pointer names no job
    }
  }
  return jobs;
}

/**
 * `ream gc`: gives an embedded data dir's disk space back, and finds what nothing reads again.
 * The database is rewritten without the free pages its deletes left (SQLite never shrinks its
 * file on its own), and empty blob folders and unfinished temp files go. Ended jobs no command
 * points to are counted; with `remove` they go (their results, checkpoints and events), then the
 * documents no job uses (with their blobs and search entries). Jobs that `ream serve`'s clients
 * made (its audit log names them) are never counted, and `remove` is refused in a data dir that
 * was served; jobs the library made are no command's either: `remove` is refused in a data dir
 * the library opened (see library-use.ts).
 * Needs the data dir to itself: refused while another process holds it.
 */
export async function gcCommand(dataDirFlag: string, remove: boolean): Promise<GcSummary> {
  const dataDir = resolve(dataDirFlag);
  if (!existsSync(join(dataDir, 'ream.db'))) throw ReamError.nonRetryable('not_found', `no data dir ${dataDirFlag} (no ream.db in it)`);
  const { createReam } = await import('../runtime/create-ream.ts');
  // With `remove`: documents no job uses, stored before now (a sweep of 0 days for documents; jobs kept).
  const ream = await createReam({ dataDir, work: false, ...(remove ? { retention: { documentsDays: 0, intervalMs: 2 ** 31 - 1 } } : {}) });
  try {
    const pointed = pointedJobs(dataDir);
    const served = await servedWork(ream);
    if (remove && served.any) {
      throw ReamError.nonRetryable('validation_failed', `${dataDirFlag} was served (its audit log records jobs or documents made through the API), and --remove would remove what its clients still read: run ream gc without --remove, and delete jobs and documents through the API`);
    }
    if (remove && openedByLibrary(dataDir)) {
      throw ReamError.nonRetryable('validation_failed', `${dataDirFlag} was opened through the library (createReam: its ${LIBRARY_USE_FILE} file says so), whose jobs no command points to, and --remove would remove them and their documents: run ream gc without --remove, and delete jobs with the library's deleteJob`);
    }
    const unpointed: string[] = [];
    for (let cursor: string | undefined; ;) {
      const page = await ream.listJobs({ tenantId: DEFAULT_TENANT, limit: 500, ...(cursor === undefined ? {} : { cursor }) });
      for (const job of page.items) if (!pointed.has(job.id) && !served.jobs.has(job.id) && TERMINAL_JOB_STATUSES.includes(job.status)) unpointed.push(job.id);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    let swept = { documents: 0, blobs: 0, bytes: 0 };
    if (remove) {
      for (const id of unpointed) await ream.deleteJob(id);
      swept = await ream.sweepRetention();
    }
    const compacted = await ream.compact();
    return { unpointedJobs: unpointed.length, removed: remove, documents: swept.documents, blobs: swept.blobs, bytes: swept.bytes, ...compacted };
  } finally {
    await ream.close();
  }
}

/** The audit actions of a server's clients making jobs or storing documents. */
const SERVED_ACTIONS = ['job.create', 'document.upload', 'upload.create'];

/**
 * What clients of `ream serve` made in the data dir, from its audit log (every successful `POST
 * /v1/jobs`, `/v1/documents` and `/v1/uploads` is recorded): the jobs made so, and whether any
 * job or document was. Those are no command's, yet their clients still read them.
 */
async function servedWork(ream: Pick<Ream, 'listAudit'>): Promise<{ jobs: Set<string>; any: boolean }> {
  const jobs = new Set<string>();
  let any = false;
  for (const action of SERVED_ACTIONS) {
    for (let afterId: string | undefined; ;) {
      const page = await ream.listAudit({ action, limit: 500, ...(afterId === undefined ? {} : { afterId }) });
      for (const entry of page) {
        if (entry.status >= 400) continue;
        any = true;
        if (action === 'job.create' && entry.target !== null) jobs.add(entry.target);
      }
      if (page.length < 500) break;
      afterId = page.at(-1)?.id;
    }
  }
  return { jobs, any };
}

const MB = 1024 * 1024;

export function formatGcSummary(summary: GcSummary): string {
  const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
  return [
    summary.removed
      ? `removed: ${summary.unpointedJobs} ended job(s) no command resumes, ${summary.documents} document(s) no job uses (${summary.blobs} blob(s), ${mb(summary.bytes)})`
      : `found: ${summary.unpointedJobs} ended job(s) no ream run or ream rows command resumes${summary.unpointedJobs > 0 ? ' (add --remove to remove them and the documents no job uses)' : ''}`,
    `database: ${mb(summary.databaseBytesBefore)} -> ${mb(summary.databaseBytesAfter)}`,
    `blob folder: ${summary.emptyFolders} empty folder(s) and ${summary.tempFiles} unfinished temp file(s) removed`,
  ].join('\n');
}

export function registerGcCommand(program: Command): void {
  program
    .command('gc')
    .description('give an embedded data dir\'s disk space back (compact its database, remove empty blob folders); needs the data dir to itself')
    .option('--data-dir <dir>', 'the data dir', '.ream')
    .option('--remove', 'also remove ended jobs no ream run or ream rows command resumes (jobs of ream serve are no command\'s: not for a served data dir), then the documents no job uses')
    .action(async (flags: { dataDir: string; remove?: boolean }) => {
      process.stdout.write(`${formatGcSummary(await gcCommand(flags.dataDir, flags.remove === true))}\n`);
    });
}
