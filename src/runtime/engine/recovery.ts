import { ReamError } from '../../errors.ts';
import { turnsEvery } from '../../event-loop-turns.ts';
import type { TaskQueue } from '../../queue/port.ts';
import { TERMINAL_DOCUMENT_STATUSES, type JobRecord, type Store } from '../../store/port.ts';
import type { JobLifecycle } from './job-lifecycle.ts';
import type { WebhookScheduling } from './webhook-scheduling.ts';

/**
 * How far back recovery looks at jobs that ended: a day covers a process that stays down
 * overnight, well within how long the queues keep task ids for dedupe (so a webhook delivery
 * made already is not made again).
 */
const RECENT_END_WINDOW_MS = 24 * 3600_000;
/**
 * A deletion begun longer ago than this and still not done was cut short (a crash, a statement
 * refused): recovery finishes it. Younger ones may still be under way in another process.
 */
const DELETION_CUT_SHORT_MS = 10 * 60_000;
/**
 * How long recovery holds the event loop at most: on SQLite every await answers on this thread at
 * once, so a backlog of thousands of jobs, seen to while `ream serve` serves, kept its port closed
 * (and its requests, and a stop signal, waiting) to the end.
 */
const TURN_MS = 10;

export interface RecoveryParts {
  store: Pick<Store, 'listUnfinishedJobs' | 'listJobDocuments' | 'listJobsFinishedSince' | 'updateJobDocument' | 'listJobsDeletingBefore'>;
  queue: Pick<TaskQueue, 'counts'>;
  lifecycle: Pick<JobLifecycle, 'finalizeIfDone' | 'deleteJob'>;
  webhooks: Pick<WebhookScheduling, 'recover'>;
  /** Settles an ended job's credits; a settlement made already is not repeated. */
  settle(job: JobRecord): Promise<void>;
  schedule(job: JobRecord, documentIds: readonly string[]): Promise<void>;
}

/**
 * After a restart: makes sure every unfinished job can finish. Documents without a task get one
 * (enqueue dedupes, so existing tasks are untouched), and jobs whose documents all ended are
 * closed. This is what guarantees no job stays `running` forever. Jobs that ended lately get
 * their webhook delivery enqueued if a crash kept it from being enqueued, and a cancelled job's
 * documents that a crash left unfinished (cancel changes the job first, then its documents) are
 * marked cancelled, and their credits are settled if a crash kept them from it. A job whose
 * deletion was cut short (no reader sees it, its rows are still there) is deleted again.
 *
 * `failStuck` records a document whose tasks all ended without finishing it as failed. `signal`
 * stops it between two jobs (a process closing while recovery runs in the background); what it
 * left is seen to by the next recovery. True when it ran to its end, false when `signal` stopped it.
 */
export async function recoverJobs(parts: RecoveryParts, failStuck: (jobId: string, documentId: string) => Promise<void>, signal?: AbortSignal): Promise<boolean> {
  const { store, queue, lifecycle } = parts;
  const letOthersIn = turnsEvery(TURN_MS);
  for (const job of await store.listUnfinishedJobs()) {
    await letOthersIn();
    if (signal?.aborted === true) return false;
    const unfinished = (await store.listJobDocuments(job.id)).filter((doc) => !TERMINAL_DOCUMENT_STATUSES.includes(doc.status));
    await parts.schedule(job, unfinished.map((doc) => doc.documentId));
    // A queue may end a task behind the engine's back (a lease that expired on its last
    // attempt). If the job has no live task left, its unfinished documents can never finish:
    // fail them, with a reason, rather than leave the job running forever.
    const counts = await queue.counts(job.id);
    if (unfinished.length > 0 && counts.queued + counts.waiting + counts.leased === 0) {
      for (const doc of unfinished) await failStuck(job.id, doc.documentId);
    }
    await lifecycle.finalizeIfDone(job.id);
  }
  const ended = await store.listJobsFinishedSince(Date.now() - RECENT_END_WINDOW_MS);
  for (const job of ended) {
    await letOthersIn();
    if (signal?.aborted === true) return false;
    // A process that died between ending a job and settling it left its credits held.
    await parts.settle(job);
    if (job.status !== 'cancelled') continue;
    for (const doc of await store.listJobDocuments(job.id)) {
      if (!TERMINAL_DOCUMENT_STATUSES.includes(doc.status)) {
        await store.updateJobDocument(job.id, doc.documentId, { status: 'cancelled', finishedAt: job.finishedAt ?? Date.now() });
      }
    }
  }
  await parts.webhooks.recover(ended);
  for (const jobId of await store.listJobsDeletingBefore(Date.now() - DELETION_CUT_SHORT_MS)) {
    await letOthersIn();
    if (signal?.aborted === true) return false;
    await lifecycle.deleteJob(jobId).catch((error: unknown) => {
      // Another process (its own recovery, a DELETE) finished it since it was listed: done.
      if (error instanceof ReamError && error.code === 'not_found') return;
      process.emitWarning(`ream: the deletion of job ${jobId} could not be finished now (the next recovery tries again): ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  return true;
}
