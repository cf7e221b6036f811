import type { FastifyInstance } from 'fastify';
import type { JobDocumentPage, JobDocumentView } from '../../api-types.ts';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import type { DocumentStatus, JobDocumentPageRequest, JobDocumentRecord } from '../../store/port.ts';
import { principalOf } from '../auth/principal.ts';
import { TENANT as TENANT_ACCESS } from '../auth/access.ts';
import { jobIdParams, pageOf, problemResponses } from '../openapi.ts';
import { requireJob } from './jobs.ts';

/** Rows per page unless `limit` says otherwise, and the most one page may hold. */
const JOB_DOCUMENTS_PAGE = { default: 100, max: 1000 } as const;

const DOCUMENT_STATUSES = ['queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled'] as const satisfies readonly DocumentStatus[];
const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

const jobDocumentSchema = {
  type: 'object',
  required: ['id', 'ordinal', 'name', 'status', 'pagesTotal', 'chunksTotal', 'error', 'startedAt', 'finishedAt'],
  properties: {
    id: { type: 'string', description: 'Document id' },
    ordinal: { type: 'integer', description: 'Position in the job\'s input' },
    name: { type: 'string', description: 'The name it was given (uploaded file name, CLI path)' },
    status: { type: 'string', enum: DOCUMENT_STATUSES },
    pagesTotal: { type: ['integer', 'null'], description: 'Known once the document was inspected' },
    chunksTotal: { type: ['integer', 'null'] },
    error: { anyOf: [{ $ref: 'ErrorInfo#' }, { type: 'null' }] },
    startedAt: isoOrNull,
    finishedAt: isoOrNull,
    parentId: { type: 'string', description: 'The document it was taken out of (an e-mail\'s attachment); absent for the files given' },
  },
} as const;

const listSchema = {
  summary: 'The job\'s documents in input order, queued ones included, with their status; a page at a time',
  params: jobIdParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'string', pattern: '^[0-9]+$', description: `Page size, 1 to ${JOB_DOCUMENTS_PAGE.max} (default ${JOB_DOCUMENTS_PAGE.default})` },
      cursor: { type: 'string', description: 'nextCursor of the previous page (or a bare ordinal: the documents after it)' },
      status: { type: 'string', description: `Only the documents in these statuses, comma-separated (${DOCUMENT_STATUSES.join(', ')}); the cursor of such a page reads on among them` },
    },
  },
  response: {
    200: pageOf(jobDocumentSchema),
    ...problemResponses,
  },
} as const;

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return JOB_DOCUMENTS_PAGE.default;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > JOB_DOCUMENTS_PAGE.max) throw invalid(`limit must be an integer from 1 to ${JOB_DOCUMENTS_PAGE.max}`);
  return n;
}

/**
 * A cursor is `<ordinal>` or `<ordinal>:<documentId>` (what `nextCursor` gives): the id breaks the
 * tie between documents that share an ordinal (two racing attaches), so none is skipped.
 */
function parseCursor(value: string | undefined): JobDocumentPageRequest['after'] {
  if (value === undefined || value === '') return undefined;
  const match = /^(\d{1,15})(?::(.+))?$/.exec(value);
  if (!match) throw invalid('cursor must be the nextCursor of the previous page');
  const ordinal = Number(match[1]);
  return match[2] === undefined ? { ordinal } : { ordinal, documentId: match[2] };
}

/** `failed,partially_succeeded` → those statuses; undefined when absent or empty. */
function parseStatuses(value: string | undefined): DocumentStatus[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const statuses = [...new Set(value.split(',').map((part) => part.trim()))];
  const unknown = statuses.filter((status) => !(DOCUMENT_STATUSES as readonly string[]).includes(status));
  if (unknown.length > 0) throw invalid(`status must be one or more of ${DOCUMENT_STATUSES.join(', ')}, comma-separated (not ${unknown.map((status) => JSON.stringify(status)).join(', ')})`);
  return statuses as DocumentStatus[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(doc: JobDocumentRecord): JobDocumentView {
  return {
    id: doc.documentId,
    ordinal: doc.ordinal,
    name: doc.source,
    status: doc.status,
    pagesTotal: doc.pagesTotal,
    chunksTotal: doc.chunksTotal,
    error: doc.error,
    startedAt: iso(doc.startedAt),
    finishedAt: iso(doc.finishedAt),
    ...(doc.parentId === undefined ? {} : { parentId: doc.parentId }),
  };
}

/** `GET /v1/jobs/:id/documents`: what the console lists, so a document still queued (no event yet) has a row. */
export function jobDocumentRoutes(app: FastifyInstance, ream: Ream): void {
  app.get<{ Params: { id: string }; Querystring: { limit?: string; cursor?: string; status?: string } }>(
    '/v1/jobs/:id/documents',
    { ...TENANT_ACCESS, schema: listSchema },
    async (request): Promise<JobDocumentPage> => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      const limit = parseLimit(request.query.limit);
      const after = parseCursor(request.query.cursor);
      const statuses = parseStatuses(request.query.status);
      // One row more than asked tells whether another page follows, without a count.
      const rows = await ream.jobDocuments(job.id, { limit: limit + 1, ...(after === undefined ? {} : { after }), ...(statuses === undefined ? {} : { statuses }) });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items: items.map(view), nextCursor: rows.length > limit && last ? `${last.ordinal}:${last.documentId}` : null };
    },
  );
}
