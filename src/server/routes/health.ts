import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';

export function healthRoutes(app: FastifyInstance, ream: Ream): void {
  /** The process is up and serving. */
  app.get('/healthz', () => ({ status: 'ok' }));

  /** The store answers a query: the service can take work. */
  app.get('/readyz', async () => {
    try {
      await ream.engine.deps.store.getJob('readyz-probe');
    } catch (error) {
      throw new ReamError('internal', 'the store does not answer', { cause: error });
    }
    return { status: 'ready' };
  });
}
