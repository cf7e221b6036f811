import { sql, type Kysely } from 'kysely';
import { prepareQuery } from '../sql/prepared-query.ts';
import type { QueueTables } from './queue-schema.ts';
import { exhaustedLeases } from './sql-task-ends.ts';
import { LEASED_COLUMNS } from './task-rows.ts';

/**
 * One atomic statement: pick the first due task in claim order — a queued one, or a leased one
 * whose lease ran out (crash recovery) — and lease it. The status list is spelled as literals so
 * SQLite uses the partial index `tasks_claim` (it cannot match bound values).
 */
export function claimQuery(db: Kysely<QueueTables>, now: number, leaseToken: string, workerId: string, leaseUntil: number, kinds?: readonly string[]) {
  const next = db
    .selectFrom('tasks')
    .select('seq')
    .where(sql<boolean>`status in ('queued', 'leased')`)
    .where('due_at', '<=', now)
    // An expired lease on its last attempt is not taken over: the sweep fails it instead.
    .where(sql<boolean>`(status = 'queued' or attempts < max_attempts)`)
    .$if(kinds !== undefined, (qb) => qb.where('kind', 'in', kinds ?? []))
    .orderBy('priority', 'desc')
    .orderBy('run_at')
    .orderBy('seq')
    .limit(1);
  return db
    .updateTable('tasks')
    .set({ status: 'leased', attempts: sql<number>`attempts + 1`, lease_token: leaseToken, worker_id: workerId, due_at: leaseUntil })
    .where('seq', '=', next)
    .returning(LEASED_COLUMNS);
}

/**
 * The statements every task runs through — the probe before a claim, a claim of any kind, a
 * completion — prepared once (see prepared-query.ts).
 */
export function taskStatements(db: Kysely<QueueTables>) {
  return {
    /** A leased task on its last attempt whose lease ran out by `now`, if any. */
    exhaustedLease: prepareQuery(db, 1, (db, now: number) => exhaustedLeases(db, now).select('seq').limit(1)),
    /** Also says whether another task was due (`more`), so the claim after it can be skipped. */
    claimAnyKind: prepareQuery(db, 4, (db, now: number, leaseToken: string, workerId: string, leaseUntil: number) =>
      claimQuery(db, now, leaseToken, workerId, leaseUntil).returning(
        // The same condition as the claim's own pick, over the partial index; the leased row is left out by its seq.
        sql<number>`exists (select 1 from tasks as other where other.status in ('queued', 'leased') and other.due_at <= ${now}
          and (other.status = 'queued' or other.attempts < other.max_attempts) and other.seq <> tasks.seq)`.as('more'),
      )),
    /** Completes the task if the lease is still ours; answers its parent, if it has one. */
    complete: prepareQuery(db, 3, (db, now: number, id: string, leaseToken: string) =>
      db
        .updateTable('tasks')
        .set({ status: 'completed', lease_token: null, finished_at: now })
        .where('id', '=', id)
        .where('lease_token', '=', leaseToken)
        .where('status', '=', 'leased')
        .returning('parent_id')),
  };
}
