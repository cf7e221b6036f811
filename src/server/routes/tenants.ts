import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { checkQuotas, type TenantAccount } from '../../runtime/ream.ts';
import type { CreditEntry, CreditQuery } from '../../store/port.ts';
import { ADMIN, TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';
import { ALL_TENANTS } from './jobs.ts';

const MAX_PAGE = 1000;

const quotasSchema = {
  type: 'object',
  properties: {
    pagesPerDay: { type: ['integer', 'null'], minimum: 0, description: 'Pages of jobs submitted since midnight UTC' },
    concurrentJobs: { type: ['integer', 'null'], minimum: 0, description: 'Jobs queued or running at once' },
    storageBytes: { type: ['integer', 'null'], minimum: 0, description: 'Bytes of stored documents' },
  },
} as const;

const accountSchema = {
  type: 'object',
  required: ['tenantId', 'balance', 'quotas', 'usage'],
  properties: {
    tenantId: { type: 'string' },
    balance: { type: 'integer', description: 'Credits; below 0 when a job used more than it reserved' },
    quotas: quotasSchema,
    usage: {
      type: 'object',
      required: ['pagesToday', 'unfinishedJobs', 'storageBytes'],
      properties: { pagesToday: { type: 'integer' }, unfinishedJobs: { type: 'integer' }, storageBytes: { type: 'integer' } },
    },
  },
} as const;

const entrySchema = {
  type: 'object',
  required: ['id', 'tenantId', 'kind', 'amount', 'key', 'jobId', 'reason', 'at'],
  properties: {
    id: { type: 'string' },
    tenantId: { type: 'string' },
    kind: { type: 'string', enum: ['grant', 'reserve', 'finalize', 'refund'] },
    amount: { type: 'integer', description: 'The change to the balance' },
    key: { type: 'string', description: 'Unique: job:<id>:reserve, job:<id>:settle, grant:<tenant>:<key>' },
    jobId: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    at: { type: 'string', format: 'date-time' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

const tenantParams = { type: 'object', required: ['tenant'], properties: { tenant: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

/** A tenant whose account a change makes: `*` names every tenant (`?tenant=*`), never one. */
function oneTenant(tenant: string): string {
  if (tenant === ALL_TENANTS) throw ReamError.nonRetryable('validation_failed', '"*" stands for every tenant (in ?tenant=*), not one: name the tenant to grant to or limit');
  return tenant;
}

interface LedgerQuerystring {
  after?: string;
  limit?: string;
  format?: string;
}

function entryView(entry: CreditEntry): Record<string, unknown> {
  return { ...entry, at: new Date(entry.at).toISOString() };
}

function limitOf(value: string | undefined): number {
  const limit = value === undefined ? 100 : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw ReamError.nonRetryable('validation_failed', `limit must be an integer from 1 to ${MAX_PAGE}`);
  return limit;
}

/**
 * Credits and quotas per tenant. Admins: `GET /v1/tenants` (every tenant with a balance or
 * quotas), `GET /v1/tenants/:tenant`, `POST /v1/tenants/:tenant/credits` (a grant, with a reason;
 * audited), `PUT /v1/tenants/:tenant/quotas`, `GET /v1/tenants/:tenant/ledger` (`format=jsonl`:
 * the whole ledger as JSON lines). Anyone: `GET /v1/credits`, the caller's own tenant only.
 */
export function tenantRoutes(app: FastifyInstance, ream: Ream): void {
  app.get('/v1/credits', {
    ...TENANT,
    schema: {
      summary: 'The caller\'s tenant: credit balance, quotas and usage',
      response: { 200: { ...accountSchema, properties: { ...accountSchema.properties, prices: { type: 'object', additionalProperties: { type: 'number' } } } }, ...problemResponses },
    },
  }, async (request) => ({ ...(await ream.tenants.tenant(principalOf(request).tenantId)), ...(ream.tenants.prices ? { prices: ream.tenants.prices } : {}) }));

  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/tenants', {
    ...ADMIN,
    schema: {
      summary: 'Tenants with a balance, quotas or a job, by id, a page at a time: credits, quotas and usage (admin only)',
      querystring: {
        type: 'object',
        properties: {
          after: { type: 'string', description: 'The `next` of the previous page' },
          limit: { type: 'string', description: `1–${MAX_PAGE}, default 100` },
        },
      },
      response: {
        200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: accountSchema }, next: { type: 'string', description: 'Absent on the last page' } } },
        ...problemResponses,
      },
    },
  }, async (request) => {
    const { after } = request.query;
    const limit = limitOf(request.query.limit);
    const items = await ream.tenants.listTenants({ ...(after === undefined ? {} : { after }), limit });
    const last = items.at(-1);
    return { items, ...(items.length === limit && last ? { next: last.tenantId } : {}) };
  });

  app.get<{ Params: { tenant: string } }>('/v1/tenants/:tenant', {
    ...ADMIN,
    schema: { summary: 'A tenant: balance, quotas and usage (admin only)', params: tenantParams, response: { 200: accountSchema, ...problemResponses } },
  }, async (request): Promise<TenantAccount> => ream.tenants.tenant(request.params.tenant));

  app.post<{ Params: { tenant: string }; Body: { amount: number; reason: string; key?: string } }>('/v1/tenants/:tenant/credits', {
    ...ADMIN,
    schema: {
      summary: 'Grant credits to a tenant (negative: take back), with a reason; audited (admin only)',
      params: tenantParams,
      body: {
        type: 'object',
        required: ['amount', 'reason'],
        additionalProperties: false,
        properties: {
          amount: { type: 'integer', not: { const: 0 } },
          reason: { type: 'string', minLength: 1, maxLength: 500 },
          key: { type: 'string', minLength: 1, maxLength: 200, description: 'Idempotency: a repeat of the key grants nothing more; the key with another amount or reason is 422 idempotency_conflict' },
        },
      },
      response: {
        201: { type: 'object', required: ['entry', 'balance'], properties: { entry: entrySchema, balance: { type: 'integer' } } },
        200: { type: 'object', required: ['entry', 'balance'], description: 'A repeat of `key`: the first grant', properties: { entry: entrySchema, balance: { type: 'integer' } } },
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const { amount, reason, key } = request.body;
    const granted = await ream.tenants.grantCredits({
      tenantId: oneTenant(request.params.tenant), amount, reason, ...(key === undefined ? {} : { key }),
      by: { subject: principal.subject, role: principal.role, ip: request.ip, status: 201 },
    });
    return reply.code(granted.applied ? 201 : 200).send({ entry: entryView(granted.entry), balance: granted.balance });
  });

  app.put<{ Params: { tenant: string }; Body: Record<string, number | null> }>('/v1/tenants/:tenant/quotas', {
    ...ADMIN,
    schema: {
      summary: 'Replace a tenant\'s quotas; an absent or null quota is no limit (admin only)',
      params: tenantParams,
      // Unknown keys reach checkQuotas and are refused: stripped silently, a typo would lift every limit.
      body: quotasSchema,
      response: { 200: accountSchema, ...problemResponses },
    },
  }, async (request) => {
    const principal = principalOf(request);
    await ream.tenants.setQuotas(oneTenant(request.params.tenant), checkQuotas(request.body), { subject: principal.subject, role: principal.role, ip: request.ip, status: 200 });
    return ream.tenants.tenant(request.params.tenant);
  });

  app.get<{ Params: { tenant: string }; Querystring: LedgerQuerystring }>('/v1/tenants/:tenant/ledger', {
    ...ADMIN,
    schema: {
      summary: 'A tenant\'s credit ledger, oldest first; format=jsonl exports all of it (admin only)',
      params: tenantParams,
      querystring: {
        type: 'object',
        properties: {
          after: { type: 'string', description: 'The `next` of the previous page' },
          limit: { type: 'string', description: `1–${MAX_PAGE}, default 100` },
          format: { type: 'string', enum: ['json', 'jsonl'] },
        },
      },
      response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: entrySchema }, next: { type: 'string' } } }, ...problemResponses },
    },
  }, async (request, reply) => {
    const { after, format } = request.query;
    const query = { tenantId: request.params.tenant, ...(after === undefined ? {} : { afterId: after }) };
    if (format === 'jsonl') {
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      return reply.send(Readable.from(ledgerLines(ream, query)));
    }
    const limit = limitOf(request.query.limit);
    const items = await ream.tenants.listCredits({ ...query, limit });
    const last = items.at(-1);
    return { items: items.map(entryView), ...(items.length === limit && last ? { next: last.id } : {}) };
  });
}

/** Every matching entry as a JSON line. */
async function* ledgerLines(ream: Pick<Ream, 'tenants'>, query: Omit<CreditQuery, 'limit'>): AsyncGenerator<string> {
  for await (const entry of ream.tenants.ledger(query)) yield `${JSON.stringify(entryView(entry))}\n`;
}
