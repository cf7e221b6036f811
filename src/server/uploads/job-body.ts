import { ReamError } from '../../errors.ts';
import type { JobFile, Ream, SubmittedJob } from '../../runtime/create-ream.ts';
import { JOB_FIELDS, isJobField, readJobField, type JobFields } from '../../runtime/job-fields.ts';
import type { FindUploadInProgress } from './records.ts';

const FIELDS = ['documents', 'uploads', ...JOB_FIELDS];
const MAX_ITEMS = 1000;

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

function ids(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200)) {
    throw invalid(`field "${field}" must be an array of ids`);
  }
  if (value.length > MAX_ITEMS) throw invalid(`field "${field}" takes at most ${MAX_ITEMS} ids`);
  return value;
}

/**
 * `POST /v1/jobs` with a JSON body `{ documents?, uploads?, pipeline?, options?, priority?, webhook? }`:
 * a job over documents stored already (`POST /v1/documents`) and finished tus uploads, through
 * `Ream.submitJob`: every id is resolved (tenant-scoped: another tenant's is `not_found`) before
 * the job is created. `repeat` is true when `key` named an existing job.
 * An upload of the tenant still receiving bytes is `upload_incomplete` (found with `findInProgress`).
 * `admin`: the submitter may use any priority (see `JobLimits.maxPriority`).
 */
export async function createJobFromJson(
  ream: Ream,
  tenantId: string,
  body: unknown,
  key: string | undefined,
  findInProgress?: FindUploadInProgress,
  admin = false,
): Promise<SubmittedJob> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('POST /v1/jobs takes multipart/form-data with "file" parts, or a JSON object naming "documents" or "uploads"');
  }
  const members = body as Record<string, unknown>;
  const fields: JobFields = {};
  for (const [name, value] of Object.entries(members)) {
    if (isJobField(name)) {
      if (value !== undefined) readJobField(fields, name, value, false);
    } else if (!FIELDS.includes(name)) throw invalid(`unknown field "${name}" (expected ${FIELDS.join(', ')})`);
  }
  const files: JobFile[] = [
    ...ids(members.documents, 'documents').map((documentId) => ({ documentId })),
    ...ids(members.uploads, 'uploads').map((uploadId) => ({ uploadId })),
  ];
  if (files.length === 0) throw invalid('a job needs at least one id in "documents" or "uploads"');
  return ream.submitJob({
    ...fields,
    admin,
    tenantId,
    files,
    ...(key === undefined ? {} : { key }),
    ...(findInProgress === undefined ? {} : { findUploadInProgress: findInProgress }),
  });
}
