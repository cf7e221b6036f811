// Over 300 lines on purpose: the queue's moves (claim, complete, fail, flows, cancel) share one
// transaction helper and row mapping, and read best side by side. The statements every task runs
// (the claim, the completion) are prepared in sql-claim.ts; the lease-ending ones are in sql-task-ends.ts.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { ErrorInfo } from '../errors.ts';
import { toJsonText, toNumber } from '../sql/dialect.ts';
import { endedAs, LEASE_EXPIRED, type ClaimOptions, type FailOutcome, type LeasedTask, type NewTask, type QueueBacklog, type TaskQueue, type TaskStatus } from './port.ts';
import type { QueueTables } from './queue-schema.ts';
import { DrainedHint } from './drained-hint.ts';
import { LeaseCheckGate } from './lease-check.ts';
import { claimQuery, taskStatements } from './sql-claim.ts';
import { childrenEnded, failLeases } from './sql-task-ends.ts';
import { leasedFromRow, rowFromTask } from './task-rows.ts';
import { Wakeups } from './wakeups.ts';

type Db = Kysely<QueueTables> | Transaction<QueueTables>;

/** Rows per INSERT: 14 columns × 200 stays far below SQLite's bound-parameter limit. */
const INSERT_BATCH = 200;
const STATUSES: readonly TaskStatus[] = ['waiting', 'queued', 'leased', 'completed', 'failed', 'cancelled'];

/**
 * The queue port in Kysely over one `tasks` table (see `queueMigrations`), for `SqliteQueue`.
 * SQLite runs one writer at a time, so each statement or transaction below sees no concurrent
 * change between its read and its write; wake-ups are in-process (`Wakeups`).
 *
 * Status moves: waiting → queued (children ended) → leased (claim) → completed | failed |
 * queued again (retry, lease expiry); queued/waiting → cancelled. A lease token changes on every
 * claim and is cleared on every move out of `leased`, so "the token matches" means "the lease is
 * still ours".
 */
export class SqlQueue implements TaskQueue {
  readonly name: string;
  readonly #db: Kysely<QueueTables>;
  readonly #statements: ReturnType<typeof taskStatements>;
  readonly #wakeups = new Wakeups();
  readonly #leaseChecks = new LeaseCheckGate();
  readonly #drained = new DrainedHint();
  readonly #expiryListeners = new Set<(task: LeasedTask, error: ErrorInfo) => void>();
  /** Epoch ms now: leases, due times and retention are measured on it (tests inject one to move time). */
  readonly #now: () => number;

  constructor(db: Kysely<unknown>, name: string, clock: () => number = Date.now) {
    this.#db = db.withTables<QueueTables>();
    this.#statements = taskStatements(this.#db);
    this.name = name;
    this.#now = clock;
  }

  async enqueue(tasks: readonly NewTask[]): Promise<number> {
    const now = this.#now();
    const rows = tasks.map((task) => rowFromTask(task, now, 'queued', null));
    if (rows.length === 0) return 0;
    const insert = async (db: Db): Promise<number> => {
      let added = 0;
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        // "enqueue dedupes by task id: a task whose id exists already (in any state) is not added again."
        const inserted = await db
          .insertInto('tasks')
          .values(rows.slice(i, i + INSERT_BATCH))
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        added += inserted.length;
      }
      return added;
    };
    const added = rows.length <= INSERT_BATCH ? await insert(this.#db) : await this.#db.transaction().execute(insert);
    this.#wakeups.notifyAt(Math.min(...rows.map((row) => toNumber(row.run_at))), now);
    return added;
  }

  async enqueueFlow(parent: NewTask, children: readonly NewTask[]): Promise<void> {
    const now = this.#now();
    const parentRow = rowFromTask(parent, now, 'waiting', null);
    const childRows = children.map((child) => rowFromTask(child, now, 'queued', parent.id));
    const created = await this.#db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('tasks')
        .values(parentRow)
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return false; // the flow exists already (dedupe by the parent's id)
      let pending = 0;
      for (let i = 0; i < childRows.length; i += INSERT_BATCH) {
        const added = await trx
          .insertInto('tasks')
          .values(childRows.slice(i, i + INSERT_BATCH))
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        pending += added.length;
      }
      // The parent waits for the children this flow added; with none, it is due at once.
      await trx
        .updateTable('tasks')
        .set({ pending, status: pending === 0 ? 'queued' : 'waiting' })
        .where('id', '=', parent.id)
        .execute();
      return true;
    });
    if (created) this.#wakeups.notifyAt(Math.min(toNumber(parentRow.run_at), ...childRows.map((row) => toNumber(row.run_at))), now);
  }

  async claim(options: ClaimOptions): Promise<LeasedTask | undefined> {
    if (options.kinds?.length === 0) return undefined;
    const now = this.#now();
    if (this.#leaseChecks.due(now)) await this.#failExhaustedLeases(now);
    const leaseToken = randomUUID();
    const leaseUntil = now + options.leaseMs;
    let row;
    if (options.kinds === undefined) {
      // Read before the statement: a wake-up during it voids what it says about the rest.
      const notified = this.#wakeups.notified;
      if (this.#drained.holds(now, notified)) return undefined;
      row = await this.#statements.claimAnyKind.takeFirst([now, leaseToken, options.workerId, leaseUntil]);
      // Set only by a claim that took a task: the claim right after it is the one to spare, and
      // an idle poll must still see a lease of another worker that ran out.
      if (row && toNumber(row.more) === 0) this.#drained.set(now, notified, leaseUntil);
    } else {
      row = await claimQuery(this.#db, now, leaseToken, options.workerId, leaseUntil, options.kinds).executeTakeFirst();
    }
    if (!row) return undefined;
    const task = leasedFromRow(row, leaseToken, leaseUntil);
    if (task.attempts >= task.maxAttempts) this.#leaseChecks.lastLeaseUntil(leaseUntil);
    return task;
  }

  async extendLease(task: LeasedTask, leaseMs: number): Promise<boolean> {
    const leaseUntil = this.#now() + leaseMs;
    const result = await this.#db
      .updateTable('tasks')
      .set({ due_at: leaseUntil })
      .where('id', '=', task.id)
      .where('lease_token', '=', task.leaseToken)
      .where('status', '=', 'leased')
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    task.leaseUntil = leaseUntil;
    return true;
  }

  async release(task: LeasedTask): Promise<boolean> {
    // "The attempt is not counted": a shutdown is not the task's failure.
    const result = await this.#db
      .updateTable('tasks')
      .set({ status: 'queued', due_at: this.#now(), lease_token: null, worker_id: null, attempts: sql<number>`attempts - 1` })
      .where('id', '=', task.id)
      .where('lease_token', '=', task.leaseToken)
      .where('status', '=', 'leased')
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    this.#wakeups.notify();
    return true;
  }

  async complete(task: LeasedTask): Promise<boolean> {
    const now = this.#now();
    const finish = (db: Db) => this.#statements.complete.takeFirst([now, task.id, task.leaseToken], db);
    // The hot path (no parent) is one statement; a flow child releases its parent atomically.
    if (task.parentId === undefined) return (await finish(this.#db)) !== undefined;
    const done = await this.#db.transaction().execute(async (trx) => {
      const row = await finish(trx);
      if (row) await childrenEnded(trx, [row.parent_id]);
      return row !== undefined;
    });
    if (done) this.#wakeups.notify();
    return done;
  }

  async fail(task: LeasedTask, error: ErrorInfo, retryDelayMs?: number): Promise<FailOutcome> {
    const now = this.#now();
    const outcome = await this.#db.transaction().execute(async (trx): Promise<FailOutcome> => {
      const row = await trx
        .selectFrom('tasks')
        .select(['attempts', 'max_attempts', 'parent_id'])
        .where('id', '=', task.id)
        .where('lease_token', '=', task.leaseToken)
        .where('status', '=', 'leased')
        .executeTakeFirst();
      if (!row) return 'lost';
      const base = { lease_token: null, worker_id: null, last_error: toJsonText(error) };
      // max_attempts is read from the row: cancelJob lowers it so a cancelled job's task stops here.
      if (retryDelayMs !== undefined && toNumber(row.attempts) < toNumber(row.max_attempts)) {
        await trx.updateTable('tasks').set({ ...base, status: 'queued', due_at: now + Math.max(0, retryDelayMs) }).where('id', '=', task.id).execute();
        return 'retrying';
      }
      await trx.updateTable('tasks').set({ ...base, status: endedAs(error), finished_at: now }).where('id', '=', task.id).execute();
      await childrenEnded(trx, [row.parent_id]);
      return 'failed';
    });
    if (outcome === 'retrying') this.#wakeups.notifyAt(now + Math.max(0, retryDelayMs ?? 0), now);
    if (outcome === 'failed' && task.parentId !== undefined) this.#wakeups.notify();
    return outcome;
  }

  async cancelJob(jobId: string): Promise<number> {
    const now = this.#now();
    return this.#db.transaction().execute(async (trx) => {
      // "leased ones finish or fail on their own … and can no longer be retried."
      await trx
        .updateTable('tasks')
        .set({ max_attempts: sql<number>`attempts` })
        .where('job_id', '=', jobId)
        .where('status', '=', 'leased')
        .execute();
      const cancelled = await trx
        .updateTable('tasks')
        .set({ status: 'cancelled', finished_at: now })
        .where('job_id', '=', jobId)
        .where('status', 'in', ['queued', 'waiting'])
        .returning(['id', 'parent_id'])
        .execute();
      // Parents outside this job (none in the engine's flows, but the port allows it) must not
      // wait for children that will never end.
      const ids = new Set(cancelled.map((row) => row.id));
      await childrenEnded(trx, cancelled.map((row) => row.parent_id).filter((id) => id !== null && !ids.has(id)));
      return cancelled.length;
    });
  }

  async counts(jobId?: string): Promise<Record<TaskStatus, number>> {
    const rows = await this.#db
      .selectFrom('tasks')
      .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
      .$if(jobId !== undefined, (qb) => qb.where('job_id', '=', jobId ?? ''))
      .groupBy('status')
      .execute();
    const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
    for (const row of rows) counts[row.status as TaskStatus] = toNumber(row.n);
    return counts;
  }

  async backlog(): Promise<QueueBacklog[]> {
    const now = this.#now();
    // One pass over the partial index `tasks_claim` (unfinished tasks only, already in priority
    // order); the status list is spelled as literals for the same reason as in `claim`. A queued
    // task is claimable once due; a leased one counts as running until taken over or failed.
    const claimable = sql<boolean>`status = 'queued' and due_at <= ${now}`;
    const rows = await this.#db
      .selectFrom('tasks')
      .select([
        'priority',
        sql<number | string>`sum(case when ${claimable} then 1 else 0 end)`.as('queued'),
        sql<number | string>`sum(case when status = 'queued' and due_at > ${now} then 1 else 0 end)`.as('delayed'),
        sql<number | string>`sum(case when status = 'leased' then 1 else 0 end)`.as('running'),
        sql<number | string | null>`min(case when ${claimable} then run_at end)`.as('oldest'),
      ])
      .where(sql<boolean>`status in ('queued', 'leased')`)
      .groupBy('priority')
      .orderBy('priority', 'desc')
      .execute();
    return rows.map((row) => ({
      priority: toNumber(row.priority),
      queued: toNumber(row.queued),
      delayed: toNumber(row.delayed),
      running: toNumber(row.running),
      oldestQueuedAt: row.oldest === null ? null : toNumber(row.oldest),
    }));
  }

  waitForWork(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return this.#wakeups.wait(maxWaitMs, signal);
  }

  /**
   * Crash recovery when this process is the only one using the queue (the embedded data dir is
   * locked): every lease in the table belongs to a dead process, so all go back to `queued` at
   * once instead of after their lease time. The interrupted attempt counts (as a stalled job does
   * in BullMQ): a task that was on its last attempt fails for good, so a task that takes the
   * process down with it cannot loop forever. Returns how many leases were released.
   */
  async releaseAllLeases(): Promise<number> {
    const now = this.#now();
    const { failed, requeued } = await this.#db.transaction().execute(async (trx) => {
      const failed = await failLeases(trx, now, false);
      const requeued = await trx
        .updateTable('tasks')
        .set({ status: 'queued', due_at: now, lease_token: null, worker_id: null })
        .where(sql<boolean>`status = 'leased'`)
        .executeTakeFirst();
      return { failed, requeued: Number(requeued.numUpdatedRows) };
    });
    this.#tellExpired(failed);
    const released = failed.length + requeued;
    if (released > 0) this.#wakeups.notify();
    return released;
  }

  /**
   * Deletes tasks that ended more than `olderThanMs` ago. Their ids stop deduping: enqueueing one
   * again adds it anew (the engine's results are checkpointed, so a re-run is harmless).
   */
  async purgeFinished(olderThanMs: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('tasks')
      .where(sql<boolean>`status in ('completed', 'failed', 'cancelled')`)
      .where('finished_at', '<', this.#now() - olderThanMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Wakes waiters; the queue's data lives on in the database, which its opener closes. */
  close(): Promise<void> {
    this.#wakeups.close();
    return Promise.resolve();
  }

  /**
   * A lease that expires on the task's last attempt ends the task as `failed` (and releases its
   * flow parent) rather than leaving it leased forever. Checked before a claim when it can find
   * something (see LeaseCheckGate) with a cheap indexed probe; the write happens only when there
   * is something to fail.
   */
  async #failExhaustedLeases(now: number): Promise<void> {
    const any = await this.#statements.exhaustedLease.takeFirst([now]);
    if (!any) return;
    const failed = await this.#db.transaction().execute((trx) => failLeases(trx, now, true));
    this.#tellExpired(failed);
    if (failed.length > 0) this.#wakeups.notify();
  }

  /** Tells the listeners after the transaction's statements: they record the failure in the store. */
  #tellExpired(tasks: readonly LeasedTask[]): void {
    queueMicrotask(() => {
      for (const task of tasks) for (const listener of this.#expiryListeners) listener(task, LEASE_EXPIRED);
    });
  }

  onLeaseExpired(listener: (task: LeasedTask, error: ErrorInfo) => void): () => void {
    this.#expiryListeners.add(listener);
    return () => this.#expiryListeners.delete(listener);
  }
}
