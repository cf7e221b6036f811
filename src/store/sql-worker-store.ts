import type { Kysely, Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import { fromJsonText, toJsonText, toNumber } from '../sql/dialect.ts';
import type { JsonValue } from '../json.ts';
import { WORKER_COMMANDS, type WorkerCommand, type WorkerRecord, type WorkerState, type WorkerStore } from './worker-store.ts';
import type { WorkerTables, WorkersTable } from './workers-schema.ts';

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
    ...(row.detail === null ? {} : { detail: fromJsonText<JsonValue>(row.detail) }),
    ...(row.command === null ? {} : { command: row.command as WorkerCommand }),
  };
}

/** The worker port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`workerMigrations`). */
export function sqlWorkerStore(kysely: Kysely<unknown>): WorkerStore {
  const db = kysely.withTables<WorkerTables>();
  return {
    async putWorker(worker) {
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
        detail: worker.detail === undefined ? null : toJsonText(worker.detail),
      };
      // A heartbeat replaces the worker's row: the latest beat is all `GET /v1/workers` shows.
      // The command column is the admin's, so the upsert leaves it and reads it back.
      const { id: _id, ...changes } = row;
      const kept = await db
        .insertInto('workers')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(changes))
        .returning('command')
        .executeTakeFirst();
      const command = kept?.command ?? null;
      return command === null ? undefined : (command as WorkerCommand);
    },

    async commandWorker(id, command) {
      if (!WORKER_COMMANDS.includes(command)) throw ReamError.nonRetryable('validation_failed', `unknown worker command ${JSON.stringify(command)}`);
      const result = await db.updateTable('workers').set({ command }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async listWorkers(seenSince) {
      const rows = await db.selectFrom('workers').selectAll().where('last_seen_at', '>=', seenSince).orderBy('started_at').orderBy('id').execute();
      return rows.map(workerFromRow);
    },

    async removeWorker(id) {
      await db.deleteFrom('workers').where('id', '=', id).execute();
    },
  };
}
