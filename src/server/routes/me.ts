import type { FastifyInstance } from 'fastify';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';

/**
 * `GET /v1/me`: who the credentials are: the tenant and the role (`user` or `admin`), so that a
 * client offers what the caller may do (the console's tenant picker) without trying and being
 * refused (each refusal is an `access.denied` in the audit log).
 */
export function meRoutes(app: FastifyInstance): void {
  const schema = {
    summary: 'The caller: its tenant and role',
    response: {
      200: {
        type: 'object',
        required: ['tenantId', 'role'],
        properties: { tenantId: { type: 'string' }, role: { type: 'string', enum: ['user', 'admin'] } },
      },
      ...problemResponses,
    },
  } as const;
  app.get('/v1/me', { ...TENANT, schema }, (request) => {
    const { tenantId, role } = principalOf(request);
    return { tenantId, role };
  });
}
