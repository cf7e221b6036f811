import type { FastifyInstance } from 'fastify';
import { priorityName, type QueueLevelView } from '../../api-types.ts';
import type { QueueBacklog, Ream } from '../../runtime/create-ream.ts';
import { ADMIN } from '../auth/access.ts';
import { problemResponses } from '../openapi.ts';

const count = { type: 'integer', minimum: 0 } as const;
const levelSchema = {
  type: 'object',
  required: ['priority', 'level', 'queued', 'delayed', 'running', 'oldestQueuedAt', 'oldestAgeMs'],
  properties: {
    priority: { type: ['string', 'integer'], description: 'The level\'s name (low, normal, high, critical), or its number when it has none' },
    level: { type: 'integer', description: 'The number behind the name: higher runs first' },
    queued: { ...count, description: 'Tasks a worker could claim now' },
    delayed: { ...count, description: 'Tasks queued for later: retries waiting out their delay' },
    running: { ...count, description: 'Tasks workers hold now' },
    oldestQueuedAt: { type: ['string', 'null'], format: 'date-time', description: 'Since when the level\'s longest-waiting claimable task has been due' },
    oldestAgeMs: { type: ['integer', 'null'], description: 'How long that is, in ms, when the server answered' },
  },
} as const;

/** A backlog level as the API shows it, its age measured at `now`. */
function queueLevelView(level: QueueBacklog, now: number): QueueLevelView {
  const oldest = level.oldestQueuedAt;
  return {
    priority: priorityName(level.priority),
    level: level.priority,
    queued: level.queued,
    delayed: level.delayed,
    running: level.running,
    oldestQueuedAt: oldest === null ? null : new Date(oldest).toISOString(),
    oldestAgeMs: oldest === null ? null : Math.max(0, now - oldest),
  };
}

/** `GET /v1/queues` (admins): the deployment's queue by priority, read from the queue itself. */
export function queueRoutes(app: FastifyInstance, ream: Ream): void {
  app.get(
    '/v1/queues',
    {
      ...ADMIN,
      schema: {
        summary: 'The task queue by priority, highest first: depth, delayed retries, running tasks and the oldest waiting task\'s age (admin only when auth is on)',
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: levelSchema } } }, ...problemResponses },
      },
    },
    async () => {
      const levels = await ream.queueBacklog();
      const now = Date.now();
      return { items: levels.map((level) => queueLevelView(level, now)) };
    },
  );
}
