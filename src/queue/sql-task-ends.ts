import { sql, type Kysely, type Transaction } from 'kysely';
import { toJsonText } from '../sql/dialect.ts';
import { LEASE_EXPIRED, type LeasedTask } from './port.ts';
import type { QueueTables } from './queue-schema.ts';
import { LEASED_COLUMNS, leasedFromRow } from './task-rows.ts';

/**
 * The statements that end tasks behind their workers' backs (leases that ran out on the last
 * attempt) and release flow parents, shared by SqlQueue's claim, fail, cancel and start-up paths.
 */

/** Leased tasks on their last attempt whose lease ran out by `now`: the cheap probe before a claim. */
export function exhaustedLeases(db: Kysely<QueueTables>, now: number) {
  return db
    .selectFrom('tasks')
    .where(sql<boolean>`status = 'leased'`)
    .where('due_at', '<=', now)
    .where(sql<boolean>`attempts >= max_attempts`);
}

/** Fails leased tasks on their last attempt: only expired ones, or (`onlyExpired` false) all. */
export async function failLeases(trx: Transaction<QueueTables>, now: number, onlyExpired: boolean): Promise<LeasedTask[]> {
  const failed = await trx
    .updateTable('tasks')
    .set({ status: 'failed', finished_at: now, lease_token: null, worker_id: null, last_error: toJsonText(LEASE_EXPIRED) })
    .where(sql<boolean>`status = 'leased'`)
    .$if(onlyExpired, (qb) => qb.where('due_at', '<=', now))
    .where(sql<boolean>`attempts >= max_attempts`)
    .returning([...LEASED_COLUMNS])
    .execute();
  await childrenEnded(trx, failed.map((row) => row.parent_id));
  return failed.map((row) => leasedFromRow(row, '', now));
}

/**
 * "A flow parent stays `waiting` until every child is completed, failed or cancelled": called
 * in the same transaction as each child's terminal move, so a parent is released exactly once,
 * when its last child ends — and a failed child releases it as surely as a completed one.
 */
export async function childrenEnded(trx: Transaction<QueueTables>, parentIds: readonly (string | null)[]): Promise<void> {
  const ended = new Map<string, number>();
  for (const id of parentIds) if (id !== null) ended.set(id, (ended.get(id) ?? 0) + 1);
  for (const [id, n] of ended) {
    await trx
      .updateTable('tasks')
      .set({
        pending: sql<number>`pending - ${n}`,
        status: sql<string>`case when pending - ${n} <= 0 then 'queued' else status end`,
        due_at: sql<number>`run_at`,
      })
      .where('id', '=', id)
      .where('status', '=', 'waiting')
      .execute();
  }
}
