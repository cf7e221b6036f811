import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { PUBLIC } from '../auth/access.ts';
import { problem } from '../openapi.ts';

export function healthRoutes(app: FastifyInstance, ream: Ream): void {
  /** The process is up and serving. */
  const status = { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } } as const;
  app.get('/healthz', { ...PUBLIC, schema: { summary: 'Liveness', response: status } }, () => ({ status: 'ok' }));

  /** The store, the queue (Redis) and the blob store (S3) answer: the service can take work. 503 `unavailable` names the one that does not. */
  // Ready while recovery at open still runs (`ream serve` serves meanwhile): `recovery` says where it stands.
  const ready = { 200: { type: 'object', required: ['status', 'recovery'], properties: { status: { type: 'string' }, recovery: { type: 'string', enum: ['running', 'done', 'failed', 'stopped', 'off'] } } } } as const;
  app.get('/readyz', { ...PUBLIC, schema: { summary: 'Readiness: the store, the queue and the blob store answer; `recovery`: whether recovery at start still runs (running), ended (done), failed, was stopped, or is off', response: { ...ready, 503: { description: '`unavailable`: names the store, queue or blob store that does not answer', ...problem } } } }, async (request) => {
    const { recovery } = await ream.ready().catch((error: unknown) => {
      if (!(error instanceof ReamError) || error.code !== 'unavailable') throw error;
      // Anyone may ask: the answer names the service, the log keeps its words (hosts, ports).
      request.log.warn({ err: error }, 'not ready');
      const service = typeof error.details?.service === 'string' ? error.details.service : 'a service';
      throw ReamError.retryable('unavailable', `${service} does not answer`, { ...(error.details ? { details: error.details } : {}) });
    });
    return { status: 'ready', recovery };
  });
}
