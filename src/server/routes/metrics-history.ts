import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { ADMIN } from '../auth/access.ts';
import { DEFAULT_HISTORY, startMetricsSampler, type MetricsHistoryOptions } from '../metrics-sampler.ts';
import { problemResponses } from '../openapi.ts';

/** Without `since`, the history of the last hour. */
const DEFAULT_SPAN_MS = 60 * 60 * 1000;

const count = { type: 'integer', minimum: 0 } as const;
const sampleSchema = {
  type: 'object',
  required: ['at', 'intervalMs', 'pages', 'tasks', 'tasksFailed', 'documents', 'documentsFailed', 'failures', 'queued', 'running', 'oldestQueuedMs', 'tokens'],
  properties: {
    at: { type: 'integer', description: 'Start of the interval, epoch ms' },
    intervalMs: { type: 'integer', description: 'Length of the interval, ms' },
    pages: { ...count, description: 'Pages (a table\'s rows) in chunks that completed' },
    tasks: { ...count, description: 'Chunk tasks that ended, failed ones included' },
    tasksFailed: count,
    documents: { ...count, description: 'Documents that ended, failed ones included' },
    documentsFailed: count,
    failures: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Failed chunks and documents by error code' },
    queued: { ...count, description: 'Tasks ready for a worker at the interval\'s end' },
    running: { ...count, description: 'Tasks leased by workers at the interval\'s end' },
    oldestQueuedMs: { type: ['integer', 'null'], description: 'Age at the interval\'s end of the longest-waiting task a worker could claim (any priority, any job: started ones too), counted from when it was first due, ms; null when none waited' },
    tokens: { ...count, description: 'Model tokens spent in the interval' },
  },
} as const;

/**
 * `GET /v1/metrics/history?since=` (admins): the deployment's activity over time, one sample per
 * interval from the store's ring buffer (SQLite or PostgreSQL), which this server fills while
 * it runs (`history: false` turns the sampler off; the route still answers what is stored).
 */
export function metricsHistoryRoutes(app: FastifyInstance, ream: Ream, history: MetricsHistoryOptions | false = {}): void {
  if (history !== false) {
    const stop = startMetricsSampler(ream, history, (error) => app.log.error({ err: error }, 'could not store a metrics sample'));
    app.addHook('onClose', (_instance, done) => {
      stop();
      done();
    });
  }
  const intervalMs = history === false ? DEFAULT_HISTORY.intervalMs : (history.intervalMs ?? DEFAULT_HISTORY.intervalMs);
  const schema = {
    summary: 'The deployment\'s activity over time (admin): pages, tasks, failures by code, queue depth and age, model tokens, one sample per interval',
    querystring: {
      type: 'object',
      properties: { since: { type: 'string', pattern: '^[0-9]+$', description: 'Epoch ms: samples from this time on (default: the last hour)' } },
    },
    response: {
      200: {
        type: 'object',
        required: ['intervalMs', 'items'],
        properties: { intervalMs: { type: 'integer', description: 'This server\'s sampling interval, ms' }, items: { type: 'array', items: sampleSchema } },
      },
      ...problemResponses,
    },
  } as const;
  app.get<{ Querystring: { since?: string } }>('/v1/metrics/history', { ...ADMIN, schema }, async (request) => {
    const since = request.query.since === undefined ? Date.now() - DEFAULT_SPAN_MS : Number(request.query.since);
    if (!Number.isSafeInteger(since)) throw ReamError.nonRetryable('validation_failed', 'since must be a time in epoch milliseconds');
    return { intervalMs, items: await ream.metricsHistory(since) };
  });
}
