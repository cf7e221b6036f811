import type { FastifyInstance } from 'fastify';
import type { Ream } from '../../runtime/create-ream.ts';
import type { WorkerCommand, WorkerRecord } from '../../store/port.ts';
import { ADMIN } from '../auth/access.ts';
import { notFound } from '../auth/principal.ts';
import { idParams, problemResponses } from '../openapi.ts';

/** A worker not heard from for this long is gone (killed, or its host lost): it is not listed. */
export const WORKER_GONE_MS = 30_000;

const taskSchema = {
  type: 'object',
  required: ['taskId', 'kind', 'jobId', 'attempt', 'startedAt'],
  properties: {
    taskId: { type: 'string' },
    kind: { type: 'string', description: 'document.inspect, chunk.extract, document.merge or webhook.deliver' },
    jobId: { type: 'string' },
    documentId: { type: 'string' },
    chunk: { type: 'object', properties: { index: { type: 'integer' }, from: { type: 'integer' }, to: { type: 'integer' } } },
    attempt: { type: 'integer' },
    startedAt: { type: 'integer', description: 'Epoch ms' },
    ageMs: { type: 'integer', description: 'Running tasks: how long it has run, at the worker\'s last beat' },
    outcome: { type: 'string', description: 'Recent tasks: completed, retried, failed (for good), dropped (its job was gone or cancelled), released (given back on stop), lease_lost or unrecorded' },
    durationMs: { type: 'integer' },
    errorCode: { type: 'string' },
  },
} as const;

const workerSchema = {
  type: 'object',
  required: ['id', 'host', 'pid', 'state', 'concurrency', 'inFlight', 'tasksDone', 'tasksFailed', 'startedAt', 'lastSeenAt', 'running', 'recent'],
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
    cpuPercent: { type: 'number', description: 'CPU time since the previous beat, in % of one core' },
    rssMb: { type: 'integer' },
    heapUsedMb: { type: 'integer' },
    loadPerCore: { type: 'number', description: 'The host\'s 1-minute load average per core' },
    pausedReason: { type: 'string', description: 'Why a paused worker takes no work: an admin, or a memory, lag or CPU limit' },
    intakeLimits: {
      type: 'object',
      description: 'When the worker stops claiming on its own (absent when no limit is set)',
      properties: { maxRssMb: { type: 'number' }, maxEventLoopLagMs: { type: 'number' }, maxCpuPercent: { type: 'number' } },
    },
    command: { type: 'string', enum: ['pause', 'resume', 'drain'], description: 'The last command an admin gave it' },
    running: { type: 'array', items: taskSchema, description: 'Tasks in flight, with their job, document and chunk' },
    recent: { type: 'array', items: taskSchema, description: 'The last 20 tasks it finished, newest first' },
  },
} as const;

interface ReportedTask {
  startedAt: number;
}

/** A worker as the API shows it: its record, with what its last beat reported spread in. */
function view(worker: WorkerRecord): Record<string, unknown> {
  const { detail, ...record } = worker;
  const reported = (typeof detail === 'object' && detail !== null && !Array.isArray(detail) ? detail : {}) as { running?: ReportedTask[]; recent?: unknown[] };
  return {
    ...reported,
    ...record,
    startedAt: new Date(worker.startedAt).toISOString(),
    lastSeenAt: new Date(worker.lastSeenAt).toISOString(),
    running: (reported.running ?? []).map((task) => ({ ...task, ageMs: Math.max(0, worker.lastSeenAt - task.startedAt) })),
    recent: reported.recent ?? [],
  };
}

/** The processes working tasks (in-process workers of servers and `ream worker`s), from their heartbeats. */
export async function liveWorkers(ream: Ream, now = Date.now()): Promise<WorkerRecord[]> {
  return ream.listWorkers(now - WORKER_GONE_MS);
}

export function workerRoutes(app: FastifyInstance, ream: Ream): void {
  app.get(
    '/v1/workers',
    {
      ...ADMIN,
      schema: {
        summary: 'Worker processes heard from in the last 30 s (admin only when auth is on)',
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: workerSchema } } }, ...problemResponses },
      },
    },
    async () => ({ items: (await liveWorkers(ream)).map(view) }),
  );

  const commands: Record<WorkerCommand, string> = {
    pause: 'Pause a worker: it takes no new task (those it runs finish) until resumed',
    resume: 'Resume a paused worker',
    drain: 'Drain a worker: it finishes what it runs, takes nothing new, and `ream worker` exits',
  };
  for (const [command, summary] of Object.entries(commands) as Array<[WorkerCommand, string]>) {
    app.post<{ Params: { id: string } }>(`/v1/workers/:id/${command}`, {
      ...ADMIN,
      schema: {
        summary: `${summary} (admin only when auth is on; heard at its next heartbeat, within seconds)`,
        params: idParams('Worker id'),
        response: { 202: workerSchema, ...problemResponses },
      },
    }, async (request, reply) => {
      const { id } = request.params;
      const live = (await liveWorkers(ream)).find((worker) => worker.id === id);
      if (!live || !(await ream.commandWorker(id, command))) throw notFound('worker', id);
      return reply.code(202).send(view({ ...live, command }));
    });
  }
}
