import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import type { AuditEntry, AuditQuery } from '../../store/port.ts';
import { ADMIN } from '../auth/access.ts';
import { problemResponses } from '../openapi.ts';

const MAX_PAGE = 1000;
const EXPORT_PAGE = 1000;

const entrySchema = {
  type: 'object',
  required: ['id', 'at', 'tenantId', 'subject', 'role', 'ip', 'action', 'target', 'status'],
  properties: {
    id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    tenantId: { type: 'string' },
    subject: { type: 'string', description: 'API key id, jwt:<tenant>:<sub>, local (auth off) or cli' },
    role: { type: 'string' },
    ip: { type: ['string', 'null'] },
    action: { type: 'string', description: 'job.create, job.cancel, document.cancel, job.retry, job.delete, results.download, artifacts.download, document.upload, document.delete, upload.create, upload.delete, worker.pause, worker.resume, worker.drain, key.create, key.revoke, credits.grant, quotas.set, retention.delete, access.denied' },
    target: { type: ['string', 'null'] },
    status: { type: 'integer', description: 'The HTTP status (0: done outside HTTP, e.g. ream keys)' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

interface AuditQuerystring {
  tenant?: string;
  action?: string;
  since?: string;
  until?: string;
  after?: string;
  limit?: string;
  format?: string;
}

/** An ISO 8601 date or epoch ms, as epoch ms. */
function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw ReamError.nonRetryable('validation_failed', `${name} must be an ISO 8601 date or epoch milliseconds`);
  return ms;
}

function queryOf(q: AuditQuerystring): Omit<AuditQuery, 'limit'> & { limit?: number } {
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)) {
    throw ReamError.nonRetryable('validation_failed', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  const since = instant('since', q.since);
  const until = instant('until', q.until);
  return {
    ...(q.tenant === undefined ? {} : { tenantId: q.tenant }),
    ...(q.action === undefined ? {} : { action: q.action }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(q.after === undefined ? {} : { afterId: q.after }),
    ...(limit === undefined ? {} : { limit }),
  };
}

function view(entry: AuditEntry): Record<string, unknown> {
  return { ...entry, at: new Date(entry.at).toISOString() };
}

/**
 * `GET /v1/audit` (admins): the audit log, oldest first, filtered by tenant, action and time,
 * a page at a time (`next` is the `after` of the next page); `format=jsonl` streams every
 * matching entry as JSON lines instead (an export).
 */
export function auditRoutes(app: FastifyInstance, ream: Ream): void {
  app.get<{ Querystring: AuditQuerystring }>('/v1/audit', {
    ...ADMIN,
    schema: {
      summary: 'The audit log: who did what, when (admin only)',
      querystring: {
        type: 'object',
        properties: {
          tenant: { type: 'string' }, action: { type: 'string' },
          since: { type: 'string', description: 'ISO 8601 or epoch ms, inclusive' },
          until: { type: 'string', description: 'ISO 8601 or epoch ms, exclusive' },
          after: { type: 'string', description: 'The `next` of the previous page' },
          limit: { type: 'string', description: `1–${MAX_PAGE}, default 100` },
          format: { type: 'string', enum: ['json', 'jsonl'], description: 'jsonl: every matching entry, one per line' },
        },
      },
      response: {
        200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: entrySchema }, next: { type: 'string' } } },
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const query = queryOf(request.query);
    if (request.query.format === 'jsonl') {
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      return reply.send(Readable.from(exportLines(ream, query)));
    }
    const limit = query.limit ?? 100;
    const items = await ream.listAudit({ ...query, limit });
    const last = items.at(-1);
    return { items: items.map(view), ...(items.length === limit && last ? { next: last.id } : {}) };
  });
}

/** Every matching entry as a JSON line, read a page at a time (never the whole log in memory). */
async function* exportLines(ream: Ream, query: Omit<AuditQuery, 'limit'>): AsyncGenerator<string> {
  let afterId = query.afterId;
  for (;;) {
    const page = await ream.listAudit({ ...query, ...(afterId === undefined ? {} : { afterId }), limit: EXPORT_PAGE });
    for (const entry of page) yield `${JSON.stringify(view(entry))}\n`;
    if (page.length < EXPORT_PAGE) return;
    afterId = page.at(-1)?.id;
  }
}
