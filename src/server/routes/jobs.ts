import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { DocumentOutput } from '../../pipeline/types.ts';
import type { JobFile, Ream, SubmittedJob } from '../../runtime/create-ream.ts';
import { JOB_FIELDS, isJobField, readJobField, type JobFields } from '../../runtime/job-fields.ts';
import { JOB_STATUSES, JOB_TOTAL_CAP, TERMINAL_JOB_STATUSES, type JobRecord, type JobStatus } from '../../store/port.ts';
import { TERMINAL_EVENT_TYPES } from '../../events/types.ts';
import { LOCAL_PRINCIPAL, canSee, principalOf, type Principal } from '../auth/principal.ts';
import { countUploadBytes } from '../metrics.ts';
import { TENANT as TENANT_ACCESS } from '../auth/access.ts';
import { jobIdParams, jobResponse, pageOf, problemResponses, quotaResponses } from '../openapi.ts';
import { createJobFromJson } from '../uploads/job-body.ts';
import type { FindUploadInProgress } from '../uploads/records.ts';
import { sanitizeFileName } from '../uploads/file-name.ts';
import { multipartFailure, multipartFileNameRefusal } from '../uploads/multipart-errors.ts';
import { loadJobView } from '../views.ts';
import { multipartFileBytes } from '../uploads/multipart-size.ts';

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

/** `GET /v1/jobs?sort=`: by creation time, `-` for newest first (the default). */
const JOB_SORTS = ['-created', 'created'];

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
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
 * `POST /v1/jobs`, multipart: fields (`pipeline`, `options`, `priority`, `webhook`) first, then
 * one or more `file` parts, each streamed into the blob store as it arrives; a JSON body names
 * documents stored already and finished uploads. Both go through `Ream.submitJob`: bad fields
 * are refused before any file is read, and the job is created with every file after the last
 * one, so a failed upload makes no job (a half-submitted job never runs).
 * With `Idempotency-Key`: a repeat answers 200 with the first job and its files are not stored.
 */
/**
 * A job's address for `Location`, from the request that made or retried it (`POST /v1/jobs`, `POST
 * /v1/jobs/:id/retry`). With `publicUrl` (a proxy's path prefix, `/ream/`) it is relative, as an
 * upload's is: a client resolves it against the address it used, under the prefix or not.
 */
function jobLocation(publicUrl: string | undefined): (jobId: string, from: 'create' | 'retry') => string {
  if (publicUrl === undefined) return (jobId) => `/v1/jobs/${jobId}`;
  return (jobId, from) => (from === 'create' ? `jobs/${jobId}` : `../${jobId}`);
}

async function createJob(ream: Ream, request: FastifyRequest, reply: FastifyReply, jobUrl: (jobId: string, from: 'create') => string, findUpload: FindUploadInProgress | undefined): Promise<FastifyReply> {
  const tenantId = principalOf(request).tenantId;
  const admin = principalOf(request).role === 'admin'; // admins are above the priority limit
  const key = idempotencyKey(request);
  let submitted: SubmittedJob;
  if (!request.isMultipart()) submitted = await createJobFromJson(ream, tenantId, request.body, key, findUpload, admin);
  else {
    try {
      submitted = await createJobFromParts(ream, request, { tenantId, admin, ...(key === undefined ? {} : { key }) });
    } catch (error) {
      throw multipartFailure(error);
    }
  }
  const { job, repeat } = submitted;
  if (!repeat) reply.code(202).header('retry-after', '1');
  return reply.header('location', jobUrl(job.id, 'create')).send(await loadJobView(ream, job));
}

/** Multipart: the fields up to the first file part, then the files, streamed into `Ream.submitJob`. */
async function createJobFromParts(ream: Ream, request: FastifyRequest, input: { tenantId: string; admin: boolean; key?: string }): Promise<SubmittedJob> {
  const parts = request.parts()[Symbol.asyncIterator]();
  const fields: JobFields = {};
  // The fields' bytes are no file's: a long template must not make the storage quota's early
  // check take the tenant's largest document sent again for more than it is.
  let fieldBytes = 0;
  const given = new Set<string>();
  let next = await parts.next();
  for (; next.done !== true && next.value.type === 'field'; next = await parts.next()) {
    const { fieldname, value } = next.value;
    if (fieldname === 'file') throw invalid('a "file" part needs a filename (Content-Disposition: form-data; name="file"; filename="…"): this one came as a plain field');
    if (!isJobField(fieldname)) throw invalid(`unknown field "${fieldname}" (expected file, ${JOB_FIELDS.join(', ')})`);
    // As a query parameter given twice: which one counts would be a guess (one was kept without a word).
    if (given.has(fieldname)) throw invalid(`field "${fieldname}" is given more than once: give it once`);
    given.add(fieldname);
    fieldBytes += typeof value === 'string' ? Buffer.byteLength(value) : 0;
    readJobField(fields, fieldname, value, true);
  }
  const first = next;
  let count = 0;
  let read = false;
  // The file parts, read only once submitJob has accepted the fields and found the key new.
  async function* files(): AsyncGenerator<JobFile> {
    read = true;
    for (let part = first; part.done !== true; part = await parts.next()) {
      if (part.value.type === 'field') throw invalid(`field "${part.value.fieldname}" must come before the files`);
      const file = part.value.file;
      if (part.value.fieldname !== 'file') {
        await drain(file);
        throw invalid(`unexpected file part "${part.value.fieldname}" (files go in "file" parts)`);
      }
      const tooLong = multipartFileNameRefusal(part.value.filename);
      if (tooLong !== undefined) {
        await drain(file);
        throw tooLong;
      }
      const name = sanitizeFileName(part.value.filename, `file-${++count}`);
      // A part over the size limit is cut short by the parser: refuse it rather than store half a file.
      file.once('limit', () => file.destroy(ReamError.nonRetryable('file_too_large', `file "${name}" is over the size limit`)));
      yield { stream: file, name };
    }
    if (count === 0) throw invalid('no "file" part: a job needs at least one file');
  }
  // The body's length less its framing stands for the files': a body far past the storage quota
  // is refused before any file is stored (each is counted exactly when its bytes have come).
  const incomingBytes = multipartFileBytes(request, fieldBytes);
  const submitted = await ream.submitJob({ ...fields, ...input, files: files(), incomingBytes, onStored: (doc) => countUploadBytes(ream, 'jobs', doc.size) });
  // A repeat read no file: the rest of the body is drained so the request ends cleanly. (A
  // repeat found only once its files were stored, a key sent twice at once, has read them all.)
  if (submitted.repeat && !read) for (let part = first; part.done !== true; part = await parts.next()) if (part.value.type === 'file') await drain(part.value.file);
  return submitted;
}

/** Every tenant, for an admin's `GET /v1/jobs?tenant=*`. */
export const ALL_TENANTS = '*';

/**
 * Whose jobs a list shows: the caller's tenant; an admin may name another, or `*` for every
 * tenant (undefined). Naming another tenant without being an admin is `forbidden`.
 */
function listedTenant(principal: Principal, tenant: string | undefined): string | undefined {
  if (tenant === undefined || tenant === principal.tenantId) return principal.tenantId;
  if (principal.role !== 'admin') throw ReamError.nonRetryable('forbidden', 'only an admin may list another tenant\'s jobs');
  return tenant === ALL_TENANTS ? undefined : tenant;
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
        const job = await ream.getJob(jobId);
        const ended = job === undefined || TERMINAL_JOB_STATUSES.includes(job.status);
        const docs = await ream.jobDocuments(jobId);
        while (next < docs.length && !closed.aborted) {
          const doc = docs[next];
          if (!doc) break;
          const result = await ream.documentResult(jobId, doc.documentId);
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

/** What `POST /v1/jobs` takes, for the OpenAPI document (the handler reads and checks it itself). */
const SUBMIT_FIELDS = {
  pipeline: { type: 'string', description: 'extract (default), rules, llm, rows, or one the server registered' },
  priority: { type: 'string', enum: ['low', 'normal', 'high', 'critical'] },
} as const;
const SUBMIT_BODY = {
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        description: 'The fields first, then one or more file parts, streamed',
        properties: {
          ...SUBMIT_FIELDS,
          options: { type: 'string', description: 'The pipeline options, a JSON object' },
          webhook: { type: 'string', description: 'A JSON object: url, and events' },
          file: { type: 'array', items: { type: 'string', format: 'binary' } },
        },
        required: ['file'],
      },
    },
    'application/json': {
      schema: {
        type: 'object',
        description: 'A job over documents stored already (POST /v1/documents) and finished tus uploads; at least one id',
        additionalProperties: false,
        properties: {
          ...SUBMIT_FIELDS,
          options: { type: 'object', additionalProperties: true },
          webhook: { type: 'object', additionalProperties: true },
          documents: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
          uploads: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
        },
      },
    },
  },
} as const;

const jobSchema = { params: jobIdParams, response: { 200: jobResponse, ...problemResponses } } as const;

/** `findUpload` finds tus uploads still in progress (so a job over one is `upload_incomplete`, not `not_found`). */
export function jobRoutes(app: FastifyInstance, ream: Ream, shutdown: AbortSignal, findUpload?: FindUploadInProgress, publicUrl?: string): void {
  const jobUrl = jobLocation(publicUrl);
  app.post(
    '/v1/jobs',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'Submit a job: multipart fields pipeline, options (JSON), priority, then one or more file parts',
        consumes: ['multipart/form-data', 'application/json'],
        'x-body': SUBMIT_BODY,
        response: { 200: { ...jobResponse, description: 'A repeat of an Idempotency-Key: the first job' }, 202: { ...jobResponse, description: 'Accepted' }, ...quotaResponses, ...problemResponses },
      },
    },
    (request, reply) => createJob(ream, request, reply, jobUrl, findUpload),
  );

  const listSchema = {
    summary: 'List jobs, newest first (or oldest first), optionally searched',
    querystring: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: JOB_STATUSES },
        q: { type: 'string', maxLength: 200, description: 'Only jobs whose id starts with this text or whose pipeline name holds it (letters A-Z in either case)' },
        sort: { type: 'string', enum: JOB_SORTS, description: '-created (default): newest first; created: oldest first. A cursor reads on only in the order it came from' },
        limit: { type: 'string', pattern: '^[0-9]+$', description: 'Page size, 1 to 500 (default 50)' },
        cursor: { type: 'string', description: 'nextCursor of the previous page' },
        tenant: { type: 'string', minLength: 1, description: 'Admins only: this tenant\'s jobs instead of their own, or * for every tenant\'s' },
        total: { type: 'string', enum: ['true', 'false'], description: `true: the answer's total says how many jobs the list holds, every page of it, counted up to ${JOB_TOTAL_CAP} (past that: exact false)` },
        idempotencyKey: { type: 'string', minLength: 1, maxLength: 255, description: 'Only the job made with this Idempotency-Key (none or one), so a client can tell a repeat before sending its files; with status it narrows, with q or cursor it is refused (validation_failed)' },
      },
    },
    response: {
      200: {
        ...pageOf({ $ref: 'Job#' }),
        properties: {
          ...pageOf({ $ref: 'Job#' }).properties,
          total: {
            type: 'object',
            required: ['count', 'exact'],
            properties: { count: { type: 'integer' }, exact: { type: 'boolean', description: `false: more than count (${JOB_TOTAL_CAP}) jobs` } },
          },
        },
      },
      ...problemResponses,
    },
  } as const;
  app.get<{ Querystring: { status?: string; q?: string; sort?: string; limit?: string; cursor?: string; tenant?: string; total?: string; idempotencyKey?: string } }>('/v1/jobs', { ...TENANT_ACCESS, schema: listSchema }, async (request) => {
    const { status, q, sort, cursor, idempotencyKey: key } = request.query;
    if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) throw invalid(`status must be one of ${JOB_STATUSES.join(', ')}`);
    const limit = parseLimit(request.query.limit);
    const tenantId = listedTenant(principalOf(request), request.query.tenant);
    if (key !== undefined) {
      // A key names at most one job of one tenant.
      if (tenantId === undefined) throw invalid('idempotencyKey needs one tenant, not *');
      // One job or none is one page in either order (sort is moot), but a search or a cursor
      // would narrow it in a way this lookup does not: refused rather than silently ignored.
      if (q !== undefined && q.trim() !== '') throw invalid('idempotencyKey names one job: it takes no q (search the list without it)');
      if (cursor !== undefined && cursor !== '') throw invalid('idempotencyKey names one job: it has no next page, so it takes no cursor');
      const job = await ream.jobByKey(tenantId, key);
      const items = job && (status === undefined || job.status === status) ? [await loadJobView(ream, job)] : [];
      return { items, nextCursor: null, ...(request.query.total === 'true' ? { total: { count: items.length, exact: true } } : {}) };
    }
    const page = await ream.listJobs({
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(status === undefined ? {} : { status: status as JobStatus }),
      ...(q === undefined || q.trim() === '' ? {} : { search: q }),
      ...(sort === 'created' ? { order: 'oldest' as const } : {}),
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined || cursor === '' ? {} : { cursor }),
      ...(request.query.total === 'true' ? { total: true } : {}),
    });
    const items = await Promise.all(page.items.map((job) => loadJobView(ream, job)));
    return { items, nextCursor: page.nextCursor, ...(page.total === undefined ? {} : { total: page.total }) };
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', { ...TENANT_ACCESS, schema: { summary: 'A job: status, progress in pages and documents, counts', ...jobSchema } }, async (request) => loadJobView(ream, await requireJob(ream, request.params.id, principalOf(request))));

  app.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', { ...TENANT_ACCESS, schema: { summary: 'Cancel a job', ...jobSchema } }, async (request) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    return loadJobView(ream, await ream.cancel(job.id));
  });

  app.post<{ Params: { id: string; documentId: string } }>(
    '/v1/jobs/:id/documents/:documentId/cancel',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'Cancel one document of a job: its queued work never runs, its running work is aborted, the other documents go on. Answers the job.',
        params: { type: 'object', required: ['id', 'documentId'], properties: { id: { type: 'string' }, documentId: { type: 'string' } } },
        response: { 200: jobResponse, ...problemResponses },
      },
    },
    async (request) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      await ream.cancelDocument(job.id, request.params.documentId);
      return loadJobView(ream, (await ream.getJob(job.id)) ?? job);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/jobs/:id/retry',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'Rerun the failed documents and chunks of a partially_succeeded or failed job',
        params: jobIdParams,
        response: { 202: { ...jobResponse, description: 'Accepted: the job runs again' }, ...quotaResponses, ...problemResponses },
      },
    },
    async (request, reply) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      return reply.code(202).header('location', jobUrl(job.id, 'retry')).send(await loadJobView(ream, await ream.retry(job.id)));
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
      // A job whose deletion was cut short (a crash, a timeout) is gone to every reader, but
      // deleting it again is accepted, and finishes the deletion.
      const job = await ream.getJob(request.params.id, { deleting: true });
      if (!job || !canSee(principalOf(request), job.tenantId)) throw ReamError.nonRetryable('not_found', `no job ${request.params.id}`);
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
