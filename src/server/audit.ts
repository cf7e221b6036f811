import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Ream } from '../runtime/create-ream.ts';
import { principalOf } from './auth/principal.ts';

/**
 * The requests the audit log records, by method and route pattern: what changes jobs, documents,
 * uploads and workers, and what reads results out. Anything refused with 403 is recorded too
 * (`access.denied`), whatever the route.
 */
const AUDITED: Readonly<Record<string, string>> = {
  'POST /v1/jobs': 'job.create',
  'POST /v1/jobs/:id/cancel': 'job.cancel',
  'POST /v1/jobs/:id/documents/:documentId/cancel': 'document.cancel',
  'POST /v1/jobs/:id/retry': 'job.retry',
  'DELETE /v1/jobs/:id': 'job.delete',
  'GET /v1/jobs/:id/results': 'results.download',
  'GET /v1/jobs/:id/download': 'results.download',
  'GET /v1/jobs/:id/documents/:documentId/download': 'results.download',
  'GET /v1/jobs/:id/artifacts/:name': 'artifacts.download',
  'GET /v1/jobs/:id/artifacts.zip': 'artifacts.download',
  'POST /v1/documents': 'document.upload',
  'DELETE /v1/documents/:id': 'document.delete',
  'POST /v1/uploads': 'upload.create',
  'DELETE /v1/uploads/:id': 'upload.delete',
  'POST /v1/workers/:id/pause': 'worker.pause',
  'POST /v1/workers/:id/resume': 'worker.resume',
  'POST /v1/workers/:id/drain': 'worker.drain',
  // Grants and quotas are recorded by themselves (`credits.grant`, `quotas.set`, with their
  // numbers, under the tenant they change), CLI ones too.
};

/** What a request was done to: its `:id`, or what a creation answered in `Location`. */
function targetOf(request: FastifyRequest, location: unknown): string | null {
  const { id, tenant } = (request.params ?? {}) as { id?: unknown; tenant?: unknown };
  if (typeof id === 'string') return id;
  if (typeof tenant === 'string') return tenant;
  return typeof location === 'string' ? (location.split('/').pop() ?? null) : null;
}

/**
 * Records audited requests in the store's audit log once each is answered: who (tenant, key or
 * token subject, role, client address), what, to what, and the status. Registered before
 * authentication so that its refusals are seen; the entry is written when the response ends
 * (tus uploads answer on the raw response), and a failed write is logged, never answered.
 */
export function registerAudit(app: FastifyInstance, ream: Pick<Ream, 'appendAudit'>): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('finish', () => {
      const status = reply.raw.statusCode;
      const route = `${request.method} ${request.routeOptions.url ?? ''}`;
      const action = status === 403 ? 'access.denied' : AUDITED[route];
      if (action === undefined || status === 401) return;
      const principal = principalOf(request);
      ream.appendAudit({
        at: Date.now(), tenantId: principal.tenantId, subject: principal.subject, role: principal.role, ip: request.ip,
        action, target: targetOf(request, reply.getHeader('location')), status,
        ...(action === 'access.denied' ? { details: { route } } : {}),
      }).catch((error: unknown) => request.log.error({ err: error, action }, 'could not write the audit log'));
    });
    done();
  });
}
