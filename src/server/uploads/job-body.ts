import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';
import type { CreateJobInput, DocumentToAdd } from '../../runtime/engine.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { parseWebhook } from '../../runtime/job-meta.ts';
import type { JobRecord } from '../../store/port.ts';
import { PRIORITIES, isPriorityName } from '../views.ts';
import { documentOfUpload, type FindUploadInProgress } from './records.ts';

const FIELDS = ['documents', 'uploads', 'pipeline', 'options', 'priority', 'webhook'];
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

function jobInput(body: Record<string, unknown>): CreateJobInput {
  const input: CreateJobInput = {};
  const { pipeline, options, priority, webhook } = body;
  if (pipeline !== undefined) {
    if (typeof pipeline !== 'string') throw invalid('field "pipeline" must be a string');
    input.pipeline = pipeline;
  }
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid('field "options" must be a JSON object');
    input.options = options as JsonObject;
  }
  if (priority !== undefined) {
    if (typeof priority !== 'string' || !isPriorityName(priority)) throw invalid(`field "priority" must be one of ${Object.keys(PRIORITIES).join(', ')}`);
    input.priority = PRIORITIES[priority];
  }
  if (webhook !== undefined) input.webhook = parseWebhook(webhook);
  return input;
}

/**
 * `POST /v1/jobs` with a JSON body `{ documents?, uploads?, pipeline?, options?, priority?, webhook? }`:
 * a job over documents stored already (`POST /v1/documents`) and finished tus uploads. Every id
 * is resolved (tenant-scoped: another tenant's is `not_found`) before the job is created; if adding
 * them then fails the job is cancelled. `repeat` is true when `key` named an existing job.
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
): Promise<{ job: JobRecord; repeat: boolean }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('POST /v1/jobs takes multipart/form-data with "file" parts, or a JSON object naming "documents" or "uploads"');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !FIELDS.includes(name));
  if (unknown !== undefined) throw invalid(`unknown field "${unknown}" (expected ${FIELDS.join(', ')})`);
  const input: CreateJobInput = { ...jobInput(fields), admin };
  if (key !== undefined) {
    const existing = await ream.engine.ports.store.findJobByKey(tenantId, key);
    if (existing) return { job: existing, repeat: true };
  }
  await ream.engine.checkJob(input); // options, limits and the webhook are refused before any id is looked up
  const targets: DocumentToAdd[] = [];
  for (const id of ids(fields.documents, 'documents')) {
    const doc = await ream.engine.ports.store.getDocument(id);
    if (!doc || doc.tenantId !== tenantId) throw ReamError.nonRetryable('not_found', `no document ${id}`);
    targets.push({ documentId: doc.id });
  }
  for (const id of ids(fields.uploads, 'uploads')) {
    const { documentId, name } = await documentOfUpload(ream, tenantId, id, findInProgress);
    targets.push({ documentId, source: name });
  }
  if (targets.length === 0) throw invalid('a job needs at least one id in "documents" or "uploads"');
  const job = await ream.createJob({ ...input, tenantId, ...(key === undefined ? {} : { key }) });
  try {
    await ream.addDocuments(job.id, targets);
  } catch (error) {
    await ream.cancel(job.id).catch(() => undefined);
    throw error;
  }
  return { job: (await ream.getJob(job.id)) ?? job, repeat: false };
}
