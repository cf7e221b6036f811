import type { FastifyInstance } from 'fastify';
import type { Ream } from '../../runtime/create-ream.ts';
import type { WorkerRecord } from '../../store/port.ts';
import { ADMIN } from '../auth/access.ts';

/** A worker not heard from for this long is gone (killed, or its host lost): it is not listed. */
export const WORKER_GONE_MS = 30_000;

const workerSchema = {
  type: 'object',
  required: ['id', 'host', 'pid', 'state', 'concurrency', 'inFlight', 'tasksDone', 'tasksFailed', 'startedAt', 'lastSeenAt'],
  properties: {
    id: { type: 'string' },
    host: { type: 'string' },
    pid: { type: 'integer' },
    state: { type: 'string', enum: ['running', 'draining', 'paused'] },
    concurrency: { type: 'integer' },
    inFlight: { type: 'integer' },
    tasksDone: { type: 'integer' },
    tasksFailed: { type: 'integer' },
    startedAt: { type: 'string', format: 'date-time' },
    lastSeenAt: { type: 'string', format: 'date-time' },
  },
} as const;

function view(worker: WorkerRecord): Record<string, unknown> {
  return { ...worker, startedAt: new Date(worker.startedAt).toISOString(), lastSeenAt: new Date(worker.lastSeenAt).toISOString() };
}

/** The processes working tasks (in-process workers of servers and `ream worker`s), from their heartbeats. */
export async function liveWorkers(ream: Ream, now = Date.now()): Promise<WorkerRecord[]> {
  return ream.engine.ports.store.listWorkers(now - WORKER_GONE_MS);
}

export function workerRoutes(app: FastifyInstance, ream: Ream): void {
  app.get(
    '/v1/workers',
    {
      ...ADMIN,
      schema: {
        summary: 'Worker processes heard from in the last 30 s (admin only when auth is on)',
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: workerSchema } } } },
      },
    },
    async () => ({ items: (await liveWorkers(ream)).map(view) }),
  );
}
