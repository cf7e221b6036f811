import type { Kysely, Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { WorkerRecord, WorkerState } from './port.ts';
import { toNumber } from './sql.ts';
import type { StoreTables } from './store-schema.ts';
import type { WorkersTable } from './workers-uploads-schema.ts';

const STATES: readonly WorkerState[] = ['running', 'draining', 'paused'];

function workerFromRow(row: Selectable<WorkersTable>): WorkerRecord {
  return {
    id: row.id,
    host: row.host,
    pid: toNumber(row.pid),
    startedAt: toNumber(row.started_at),
    lastSeenAt: toNumber(row.last_seen_at),
    concurrency: toNumber(row.concurrency),
    inFlight: toNumber(row.in_flight),
    tasksDone: toNumber(row.tasks_done),
    tasksFailed: toNumber(row.tasks_failed),
    state: row.state as WorkerState,
  };
}

/** A heartbeat replaces the worker's row: the latest beat is all `GET /v1/workers` shows. */
export async function putWorker(db: Kysely<StoreTables>, worker: WorkerRecord): Promise<void> {
  if (!STATES.includes(worker.state)) throw ReamError.nonRetryable('validation_failed', `unknown worker state ${JSON.stringify(worker.state)}`);
  const row = {
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    started_at: worker.startedAt,
    last_seen_at: worker.lastSeenAt,
    concurrency: worker.concurrency,
    in_flight: worker.inFlight,
    tasks_done: worker.tasksDone,
    tasks_failed: worker.tasksFailed,
    state: worker.state,
  };
  const { id: _id, ...changes } = row;
  await db
    .insertInto('workers')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(changes))
    .execute();
}

export async function listWorkers(db: Kysely<StoreTables>, seenSince: number): Promise<WorkerRecord[]> {
  const rows = await db
    .selectFrom('workers')
    .selectAll()
    .where('last_seen_at', '>=', seenSince)
    .orderBy('started_at')
    .orderBy('id')
    .execute();
  return rows.map(workerFromRow);
}

export async function removeWorker(db: Kysely<StoreTables>, id: string): Promise<void> {
  await db.deleteFrom('workers').where('id', '=', id).execute();
}
