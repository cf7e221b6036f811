// A repeat of an idempotency key must be a repeat of the request: a key reused for another
// request (another pipeline, other options, another amount) is refused, as payment APIs and the
// IETF Idempotency-Key draft do, rather than answered with what the first request made: a client
// that reuses a key by mistake learns it at once instead of taking the first job for its own.
import { isDeepStrictEqual } from 'node:util';
import { ReamError } from '../errors.ts';
import type { JobRecord } from '../store/port.ts';
import type { CheckedJob } from './engine/job-input.ts';
import { PRIORITIES } from './job-view.ts';

/** Refuses (`idempotency_conflict`) a repeat whose named parts differ from the first request's. */
export function refuseChangedRepeat(key: string, first: string, differing: readonly string[]): void {
  if (differing.length === 0) return;
  throw ReamError.nonRetryable('idempotency_conflict', `the idempotency key "${key}" was used for ${first} with another ${differing.join(', ')}: use a new key for a new request`, {
    details: { differing: [...differing] },
  });
}

/** A job created earlier with the key against what this request asks for (as checked: the limits' values written in). */
export function checkJobRepeat(existing: JobRecord, key: string, request: { pipeline?: string; priority?: number }, checked: CheckedJob): void {
  const differing: string[] = [];
  if (existing.pipeline !== (request.pipeline ?? 'extract')) differing.push('pipeline');
  if (!isDeepStrictEqual(existing.options, checked.options)) differing.push('options');
  if (existing.priority !== (request.priority ?? PRIORITIES.normal)) differing.push('priority');
  // The secret is compared but never shown: the message names the part, not its value.
  const hook = (target: JobRecord['webhook']): [string, string] | null => (target ? [target.url, target.secret ?? ''] : null);
  if (!isDeepStrictEqual(hook(existing.webhook), hook(checked.webhook))) differing.push('webhook');
  refuseChangedRepeat(key, `job ${existing.id}`, differing);
}
