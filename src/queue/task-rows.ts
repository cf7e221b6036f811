import type { Insertable, Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import { fromJsonText, toJsonText, toNumber } from '../sql/dialect.ts';
import type { LeasedTask, NewTask } from './port.ts';
import type { TasksTable } from './queue-schema.ts';

export const DEFAULT_MAX_ATTEMPTS = 3;

/** The columns a claim returns. */
export const LEASED_COLUMNS = ['id', 'job_id', 'kind', 'payload', 'priority', 'attempts', 'max_attempts', 'parent_id', 'run_at'] as const;
type LeasedRow = Pick<Selectable<TasksTable>, (typeof LEASED_COLUMNS)[number]>;

export function leasedFromRow(row: LeasedRow, leaseToken: string, leaseUntil: number): LeasedTask {
  return {
    id: row.id,
    jobId: row.job_id,
    kind: row.kind,
    payload: fromJsonText<JsonValue>(row.payload),
    priority: toNumber(row.priority),
    attempts: toNumber(row.attempts),
    maxAttempts: toNumber(row.max_attempts),
    parentId: row.parent_id ?? undefined,
    runAt: toNumber(row.run_at),
    leaseToken,
    leaseUntil,
  };
}

/** Validates a new task and turns it into a row; bad input is the caller's bug, said plainly. */
export function rowFromTask(
  task: NewTask,
  now: number,
  status: 'queued' | 'waiting',
  parentId: string | null,
): Insertable<TasksTable> {
  const priority = task.priority ?? 0;
  const runAt = task.runAt ?? now;
  const maxAttempts = task.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (typeof task.id !== 'string' || task.id.length === 0) throw invalid('a task needs a non-empty id');
  if (!Number.isSafeInteger(priority)) throw invalid(`task ${task.id}: priority must be an integer`);
  if (!Number.isFinite(runAt)) throw invalid(`task ${task.id}: runAt must be epoch ms`);
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw invalid(`task ${task.id}: maxAttempts must be an integer ≥ 1`);
  return {
    id: task.id,
    job_id: task.jobId,
    kind: task.kind,
    payload: toJsonText(task.payload),
    priority,
    run_at: Math.round(runAt),
    due_at: Math.round(runAt),
    max_attempts: maxAttempts,
    status,
    parent_id: parentId,
    created_at: now,
  };
}

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}
