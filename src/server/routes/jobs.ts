import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import { parseJsonObject, type JsonObject } from '../../json.ts';
import { TERMINAL_EVENT_TYPES } from '../../events/types.ts';
import type { DocumentOutput } from '../../pipeline/types.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import type { DocumentToAdd } from '../../runtime/engine.ts';
import { JOB_STATUSES, TERMINAL_JOB_STATUSES, type JobRecord, type JobStatus } from '../../store/port.ts';
import { parseWebhook, type WebhookTarget } from '../../runtime/job-meta.ts';
import { LOCAL_PRINCIPAL, canSee, principalOf, type Principal } from '../auth/principal.ts';
import { countUploadBytes } from '../metrics.ts';
import { TENANT as TENANT_ACCESS } from '../auth/access.ts';
import { jobIdParams, jobResponse, problemResponses } from '../openapi.ts';
import { createJobFromJson } from '../uploads/job-body.ts';
import type { FindUploadInProgress } from '../uploads/records.ts';
import { sanitizeFileName } from '../uploads/file-name.ts';
import { multipartFailure } from '../uploads/multipart-errors.ts';
import { PRIORITIES, isPriorityName, loadJobView } from '../views.ts';

/** Until auth lands every request acts as the embedded default tenant. */
export const TENANT = LOCAL_PRINCIPAL.tenantId;

/** A fallback wake-up while following a job, in case a live event went missing (the bus is best effort). */
const FOLLOW_FALLBACK_MS = 5_000;

/** The job, if it exists and belongs to the caller's tenant; otherwise `not_found` (never "forbidden"). */
export async function requireJob(ream: Ream, id: string, principal: Principal = LOCAL_PRINCIPAL): Promise<JobRecord> {
  const job = await ream.getJob(id);
  if (!job || !canSee(principal, job.tenantId)) throw ReamError.nonRetryable('not_found', `no job ${id}`);
  return job;
}

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}


interface JobFields {
  pipeline?: string;
  options?: JsonObject;
  priority?: number;
  webhook?: WebhookTarget;
  admin?: boolean;
}

function readField(fields: JobFields, name: string, value: unknown): void {
  if (typeof value !== 'string') throw invalid(`field "${name}" must be text`);
  if (name === 'pipeline') fields.pipeline = value;
  else if (name === 'options') fields.options = parseJsonObject(value, 'field "options"');
  else if (name === 'webhook') fields.webhook = parseWebhook(parseJsonObject(value, 'field "webhook"'));
  else if (name === 'priority') {
    if (!isPriorityName(value)) throw invalid(`field "priority" must be one of ${Object.keys(PRIORITIES).join(', ')}`);
    fields.priority = PRIORITIES[value];
  } else throw invalid(`unknown field "${name}" (expected file, pipeline, options, priority, webhook)`);
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) throw invalid('Idempotency-Key must be 1 to 255 characters');
  return key;
}

function drain(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    stream.on('end', resolve).on('error', () => resolve()).on('close', resolve);
    stream.resume();
  });
}

/**
 * `POST /v1/jobs`, multipart: fields (`pipeline`, `options`, `priority`) first, then one or more
 * `file` parts, each streamed into the blob store as it arrives. Bad fields are refused at the
 * first file, before it is read; the job is created with every file after the last one, so a
 * failed upload makes no job (a half-submitted job never runs).
 * With `Idempotency-Key`: a repeat answers 200 with the first job and its files are not read.
 */
async function createJob(ream: Ream, request: FastifyRequest, reply: FastifyReply, findUpload: FindUploadInProgress | undefined): Promise<FastifyReply> {
  const tenantId = principalOf(request).tenantId;
  if (!request.isMultipart()) {
    // A JSON body names documents stored already and finished uploads.
    const { job, repeat } = await createJobFromJson(ream, tenantId, request.body, idempotencyKey(request), findUpload, principalOf(request).role === 'admin');
    if (!repeat) reply.code(202).header('retry-after', '1');
    return reply.header('location', `/v1/jobs/${job.id}`).send(await loadJobView(ream, job));
  }
  try {
    return await createJobFromParts(ream, request, reply, tenantId);
  } catch (error) {
    throw multipartFailure(error);
  }
}

async function createJobFromParts(ream: Ream, request: FastifyRequest, reply: FastifyReply, tenantId: string): Promise<FastifyReply> {
  const key = idempotencyKey(request);
  if (key !== undefined) {
    const existing = await ream.engine.ports.store.findJobByKey(tenantId, key);
    if (existing) {
      for await (const part of request.parts()) if (part.type === 'file') await drain(part.file);
      return reply.code(200).header('location', `/v1/jobs/${existing.id}`).send(await loadJobView(ream, existing));
    }
  }
  const fields: JobFields = { admin: principalOf(request).role === 'admin' }; // admins are above the priority limit
  // Stored as they arrive; the job is made with all of them after the last: a job whose first
  // files are done before the last one is in must not end (and tell its followers so) early,
  // and a broken upload (cut short, malformed) leaves no job behind (its stored files stay, as documents).
  const docs: DocumentToAdd[] = [];
  let checked = false;
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (checked) throw invalid(`field "${part.fieldname}" must come before the files`);
      readField(fields, part.fieldname, part.value);
      continue;
    }
    if (part.fieldname !== 'file') {
      await drain(part.file);
      throw invalid(`unexpected file part "${part.fieldname}" (files go in "file" parts)`);
    }
    if (!checked) {
      await ream.engine.checkJob(fields); // bad fields (a webhook host resolved too) are refused before any file is read
      checked = true;
    }
    const file = part.file;
    const source = sanitizeFileName(part.filename, `file-${docs.length + 1}`);
    // A part over the size limit is cut short by the parser: refuse it rather than store half a file.
    file.once('limit', () => file.destroy(ReamError.nonRetryable('file_too_large', `file "${source}" is over the size limit`)));
    const doc = await ream.engine.storeDocument(file, source, tenantId);
    countUploadBytes(ream, 'jobs', doc.size);
    docs.push({ documentId: doc.id, source });
  }
  if (docs.length === 0) throw invalid('no "file" part: a job needs at least one file');
  const job = await ream.createJob({ ...fields, tenantId, ...(key === undefined ? {} : { key }) });
  try {
    await ream.addDocuments(job.id, docs);
  } catch (error) {
    await ream.cancel(job.id).catch(() => undefined);
    throw error;
  }
  const current = (await ream.getJob(job.id)) ?? job;
  return reply
    .code(202)
    .header('location', `/v1/jobs/${job.id}`)
    .header('retry-after', '1')
    .send(await loadJobView(ream, current));
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw invalid('limit must be an integer from 1 to 500');
  return n;
}

/**
 * Final results of the job's documents in input order, one per line, each as soon as it and
 * every document before it have ended; the stream ends when the job has ended and all are sent.
 * Follows the job's events (with a slow fallback wake-up), never a hot loop.
 */
function followResults(ream: Ream, jobId: string, closed: AbortSignal): AsyncGenerator<string> {
  const store = ream.engine.ports.store;
  let pending = true;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    pending = true;
    wake?.();
  };
  const off = ream.subscribe({ jobId }, (event) => {
    if (event.type.startsWith('document.') || TERMINAL_EVENT_TYPES.has(event.type)) poke();
  });
  closed.addEventListener('abort', poke, { once: true });
  const changed = async (): Promise<void> => {
    if (pending) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, FOLLOW_FALLBACK_MS);
    });
    wake = undefined;
    clearTimeout(timer);
  };
  return (async function* lines(): AsyncGenerator<string> {
    try {
      let next = 0;
      while (!closed.aborted) {
        await changed();
        pending = false;
        const job = await store.getJob(jobId);
        const ended = job === undefined || TERMINAL_JOB_STATUSES.includes(job.status);
        const docs = await store.listJobDocuments(jobId);
        while (next < docs.length && !closed.aborted) {
          const doc = docs[next];
          if (!doc) break;
          const result = await store.getDocumentResult(jobId, doc.documentId);
          // Once the job has ended a document without a result (cancelled before it ran) is skipped.
          if (!result && !ended) break;
          next++;
          if (result) yield `${JSON.stringify(result.output)}\n`;
        }
        if (ended && next >= docs.length) return;
      }
    } finally {
      off();
      closed.removeEventListener('abort', poke);
    }
  })();
}

const jobSchema = { params: jobIdParams, response: { 200: jobResponse, ...problemResponses } } as const;

/** `findUpload` finds tus uploads still in progress (so a job over one is `upload_incomplete`, not `not_found`). */
export function jobRoutes(app: FastifyInstance, ream: Ream, shutdown: AbortSignal, findUpload?: FindUploadInProgress): void {
  app.post(
    '/v1/jobs',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'Submit a job: multipart fields pipeline, options (JSON), priority, then one or more file parts',
        consumes: ['multipart/form-data'],
        response: { 200: { ...jobResponse, description: 'A repeat of an Idempotency-Key: the first job' }, 202: { ...jobResponse, description: 'Accepted' }, ...problemResponses },
      },
    },
    (request, reply) => createJob(ream, request, reply, findUpload),
  );

  const listSchema = {
    summary: 'List jobs, newest first',
    querystring: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: JOB_STATUSES },
        limit: { type: 'string', pattern: '^[0-9]+$', description: 'Page size, 1 to 500 (default 50)' },
        cursor: { type: 'string', description: 'nextCursor of the previous page' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: { items: { type: 'array', items: { $ref: 'Job#' } }, nextCursor: { type: ['string', 'null'] } },
      },
      ...problemResponses,
    },
  } as const;
  app.get<{ Querystring: { status?: string; limit?: string; cursor?: string } }>('/v1/jobs', { ...TENANT_ACCESS, schema: listSchema }, async (request) => {
    const { status, cursor } = request.query;
    if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) throw invalid(`status must be one of ${JOB_STATUSES.join(', ')}`);
    const limit = parseLimit(request.query.limit);
    const page = await ream.engine.ports.store.listJobs({
      tenantId: principalOf(request).tenantId,
      ...(status === undefined ? {} : { status: status as JobStatus }),
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined || cursor === '' ? {} : { cursor }),
    });
    return { items: await Promise.all(page.items.map((job) => loadJobView(ream, job))), nextCursor: page.nextCursor };
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', { ...TENANT_ACCESS, schema: { summary: 'A job: status, progress in pages and documents, counts', ...jobSchema } }, async (request) => loadJobView(ream, await requireJob(ream, request.params.id, principalOf(request))));

  app.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', { ...TENANT_ACCESS, schema: { summary: 'Cancel a job', ...jobSchema } }, async (request) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    return loadJobView(ream, await ream.cancel(job.id));
  });

  app.post<{ Params: { id: string } }>(
    '/v1/jobs/:id/retry',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'Rerun the failed documents and chunks of a partially_succeeded or failed job',
        params: jobIdParams,
        response: { 202: { ...jobResponse, description: 'Accepted: the job runs again' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(await loadJobView(ream, await ream.retry(job.id)));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'Delete a job: cancel it if it runs, remove its records (its documents stay)',
        params: jobIdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      await ream.deleteJob(job.id);
      return reply.code(204).send();
    },
  );

  const resultsSchema = {
    summary: 'Results: JSON { items }, or NDJSON streamed as documents finish (Accept: application/x-ndjson)',
    params: jobIdParams,
    produces: ['application/json', 'application/x-ndjson'],
    response: problemResponses,
  } as const;
  app.get<{ Params: { id: string } }>('/v1/jobs/:id/results', { ...TENANT_ACCESS, schema: resultsSchema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    if ((request.headers.accept ?? '').includes('application/x-ndjson')) {
      const closed = new AbortController();
      reply.raw.once('close', () => closed.abort());
      return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(followResults(ream, job.id, AbortSignal.any([closed.signal, shutdown]))));
    }
    const items: DocumentOutput[] = [];
    for await (const output of ream.results(job.id)) items.push(output);
    return { items };
  });
}
