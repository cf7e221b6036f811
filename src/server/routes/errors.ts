import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';
import { ALL_TENANTS } from './jobs.ts';

/** Without `since`, the failures of the last 24 hours. */
const DEFAULT_SPAN_MS = 24 * 60 * 60 * 1000;

const groupSchema = {
  type: 'object',
  required: ['code', 'count', 'firstAt', 'lastAt', 'sample'],
  properties: {
    code: { type: 'string' },
    count: { type: 'integer', description: 'Failed chunks and documents with this code' },
    firstAt: { type: 'string', format: 'date-time' },
    lastAt: { type: 'string', format: 'date-time' },
    sample: {
      type: 'object',
      description: 'The most recent failure with this code',
      required: ['tenantId', 'jobId', 'documentId', 'documentName', 'pages', 'message', 'at'],
      properties: {
        tenantId: { type: 'string' },
        jobId: { type: 'string' },
        documentId: { type: ['string', 'null'] },
        documentName: { type: ['string', 'null'] },
        pages: {
          type: ['object', 'null'],
          description: '1-based pages of the chunk that failed; null when the whole document failed',
          properties: { first: { type: 'integer' }, last: { type: 'integer' } },
        },
        message: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

/**
 * `GET /v1/errors`: recent failures (failed chunks and documents) grouped by error code, with a
 * count and the newest as a sample. A tenant sees its own; an admin every tenant's, or the one
 * it names with `tenant`.
 */
export function errorRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'Recent failures grouped by error code, each with a count and a sample job, document and message',
    querystring: {
      type: 'object',
      properties: {
        since: { type: 'string', pattern: '^[0-9]+$', description: 'Epoch ms: failures from this time on (default: the last 24 hours)' },
        tenant: { type: 'string', description: 'Admins: only this tenant (default: every tenant); others: their own only' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['items', 'truncated'],
        properties: {
          items: { type: 'array', items: groupSchema },
          truncated: { type: 'boolean', description: 'More failures than were read (10,000): the counts are of the newest' },
        },
      },
      ...problemResponses,
    },
  } as const;
  app.get<{ Querystring: { since?: string; tenant?: string } }>('/v1/errors', { ...TENANT, schema }, async (request) => {
    const principal = principalOf(request);
    const { tenant } = request.query;
    if (principal.role !== 'admin' && tenant !== undefined && tenant !== principal.tenantId) {
      throw ReamError.nonRetryable('forbidden', 'only an admin may read another tenant\'s errors');
    }
    const since = request.query.since === undefined ? Date.now() - DEFAULT_SPAN_MS : Number(request.query.since);
    if (!Number.isSafeInteger(since)) throw ReamError.nonRetryable('validation_failed', 'since must be a time in epoch milliseconds');
    // An admin's `*` is every tenant, as for the job list (and as without `tenant`).
    const tenantId = principal.role === 'admin' ? (tenant === ALL_TENANTS ? undefined : tenant) : principal.tenantId;
    return ream.errorGroups({ since, ...(tenantId === undefined ? {} : { tenantId }) });
  });
}
