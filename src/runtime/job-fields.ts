import { PRIORITIES, isPriorityName } from '../api-types.ts';
import { ReamError } from '../errors.ts';
import { parseJsonObject, type JsonObject } from '../json.ts';
import { parseWebhook } from './job-meta.ts';
import type { CreateJobInput } from './engine.ts';

/** The fields that describe a job, as the HTTP API takes them (multipart fields or JSON members). */
export const JOB_FIELDS = ['pipeline', 'options', 'priority', 'webhook'] as const;
export type JobField = (typeof JOB_FIELDS)[number];

/** What the job fields set. */
export type JobFields = Pick<CreateJobInput, 'pipeline' | 'options' | 'priority' | 'webhook'>;

export function isJobField(name: string): name is JobField {
  return (JOB_FIELDS as readonly string[]).includes(name);
}

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

/**
 * Reads one job field into `fields`: `pipeline` (a name), `options` (a JSON object), `priority`
 * (a name of {@link PRIORITIES}, stored as its number), `webhook` (`{ url, secret? }`). `text`:
 * the value came as multipart text, so `options` and `webhook` are JSON in it. Throws
 * `validation_failed` saying which field is wrong.
 */
export function readJobField(fields: JobFields, name: JobField, value: unknown, text: boolean): void {
  if (text && typeof value !== 'string') throw invalid(`field "${name}" must be text`);
  const decoded = text && (name === 'options' || name === 'webhook') ? parseJsonObject(value as string, `field "${name}"`) : value;
  switch (name) {
    case 'pipeline':
      if (typeof decoded !== 'string') throw invalid('field "pipeline" must be a string');
      fields.pipeline = decoded;
      return;
    case 'options':
      if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalid('field "options" must be a JSON object');
      fields.options = decoded as JsonObject;
      return;
    case 'priority':
      if (typeof decoded !== 'string' || !isPriorityName(decoded)) throw invalid(`field "priority" must be one of ${Object.keys(PRIORITIES).join(', ')}`);
      fields.priority = PRIORITIES[decoded];
      return;
    case 'webhook':
      fields.webhook = parseWebhook(decoded);
      return;
  }
}
