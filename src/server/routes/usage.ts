import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { principalOf } from '../auth/principal.ts';
import { TENANT } from '../auth/access.ts';
import { problemResponses } from '../openapi.ts';
import { ALL_TENANTS } from './jobs.ts';

interface UsageQuerystring {
  tenant?: string;
}

/**
 * `GET /v1/usage`: the model tokens (and cost, with a price table) a tenant's jobs have spent,
 * per model — the caller's tenant, or for an admin the one it names. A job's own usage is in
 * its status (`GET /v1/jobs/:id`).
 */
export function usageRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'Model tokens and cost spent by the caller\'s tenant, per model',
    querystring: {
      type: 'object',
      properties: { tenant: { type: 'string', description: 'Admins only: this tenant instead of their own' } },
    },
    response: {
      200: {
        type: 'object',
        required: ['tenantId', 'usage'],
        properties: { tenantId: { type: 'string' }, usage: { $ref: 'Usage#' } },
      },
      ...problemResponses,
    },
  };
  app.get<{ Querystring: UsageQuerystring }>('/v1/usage', { ...TENANT, schema }, async (request) => {
    const principal = principalOf(request);
    if (request.query.tenant === ALL_TENANTS) throw ReamError.nonRetryable('validation_failed', 'usage is one tenant\'s: name it (tenant=* is for listing jobs and errors)');
    const tenantId = request.query.tenant ?? principal.tenantId;
    if (tenantId !== principal.tenantId && principal.role !== 'admin') {
      throw ReamError.nonRetryable('forbidden', 'only an admin may read another tenant\'s usage');
    }
    return { tenantId, usage: await ream.usageView({ tenantId }) };
  });
}
