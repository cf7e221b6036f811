import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { PUBLIC } from '../auth/access.ts';

export function healthRoutes(app: FastifyInstance, ream: Ream): void {
  /** The process is up and serving. */
  const status = { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } } as const;
  app.get('/healthz', { ...PUBLIC, schema: { summary: 'Liveness', response: status } }, () => ({ status: 'ok' }));

  /** The store answers a query: the service can take work. */
  app.get('/readyz', { ...PUBLIC, schema: { summary: 'Readiness: the store answers', response: status } }, async () => {
    try {
      await ream.engine.ports.store.getJob('readyz-probe');
    } catch (error) {
      throw new ReamError('internal', 'the store does not answer', { cause: error });
    }
    return { status: 'ready' };
  });
}
