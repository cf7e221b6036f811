import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReamEvent } from '../events/types.ts';
import { PRIORITIES, priorityName } from '../api-types.ts';
import type { QueueBacklog, Ream } from '../runtime/create-ream.ts';
import type { TaskStatus } from '../queue/port.ts';
import { JOB_STATUSES, type WorkerRecord } from '../store/port.ts';
import { liveWorkers } from './routes/workers.ts';
import { ADMIN } from './auth/access.ts';
import { problemResponses } from './openapi.ts';

export interface ServerMetrics {
  /** Our own registry (never prom-client's global one): one per server. */
  readonly registry: Registry;
  /** Stops following events. */
  close(): void;
}

/**
 * Prometheus metrics for one server: jobs by status and queue depth (read on scrape), pages,
 * chunks and documents processed (counted from this process's events, so they start at 0 with
 * the process), HTTP request durations, and the default process metrics.
 */
export function createMetrics(ream: Ream): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Three gauges read the workers list; a scrape collects them together, so they share one read.
  let workersRead: Promise<WorkerRecord[]> | undefined;
  const workersOfScrape = (): Promise<WorkerRecord[]> => (workersRead ??= liveWorkers(ream).finally(() => (workersRead = undefined)));
  // Likewise the two queue gauges share one read of the backlog.
  let backlogRead: Promise<QueueBacklog[]> | undefined;
  const backlogOfScrape = (): Promise<QueueBacklog[]> => (backlogRead ??= ream.queueBacklog().finally(() => (backlogRead = undefined)));

  new Gauge({
    name: 'ream_jobs',
    help: 'Jobs by status across every tenant, read from the store on scrape.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await ream.jobStatusCounts();
      for (const status of JOB_STATUSES) this.set({ status }, counts[status]);
    },
  });
  new Gauge({
    name: 'ream_worker_tasks_in_flight',
    help: 'Tasks running now, by worker process (from heartbeats of the last 30 s).',
    labelNames: ['worker'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const worker of await workersOfScrape()) this.set({ worker: worker.id }, worker.inFlight);
    },
  });
  // Each worker's own resources, from its heartbeat: one scrape of one server sees every worker.
  for (const [name, help, field, scale] of [
    ['ream_worker_cpu_percent', 'CPU time of each worker process between its last two beats, in % of one core.', 'cpuPercent', 1],
    ['ream_worker_resident_memory_bytes', 'Resident memory of each worker process at its last beat.', 'rssMb', 2 ** 20],
  ] as const) {
    new Gauge({
      name, help, labelNames: ['worker'] as const, registers: [registry],
      async collect() {
        this.reset();
        for (const worker of await workersOfScrape()) {
          const value = (worker.detail as Record<string, unknown> | undefined)?.[field];
          if (typeof value === 'number') this.set({ worker: worker.id }, value * scale);
        }
      },
    });
  }
  new Gauge({
    name: 'ream_workers',
    help: 'Worker processes heard from in the last 30 s, by state (running, draining, paused).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const workers = await workersOfScrape();
      for (const state of ['running', 'draining', 'paused'] as const) this.set({ state }, workers.filter((w) => w.state === state).length);
    },
  });
  new Gauge({
    name: 'ream_queue_tasks',
    help: 'Tasks in the queue by task status, read on scrape.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await ream.taskCounts();
      for (const [status, n] of Object.entries(counts) as Array<[TaskStatus, number]>) this.set({ status }, n);
    },
  });
  // Per priority level, named (`normal`) where the level has a name. Reset on every scrape so a
  // level that emptied out drops its series rather than repeating its last value.
  new Gauge({
    name: 'ream_queue_depth',
    help: 'Tasks a worker could claim now, by priority, read from the queue on scrape (delayed retries and running tasks not included).',
    labelNames: ['priority'] as const,
    registers: [registry],
    async collect() {
      const levels = await backlogOfScrape();
      this.reset();
      // The named levels are always there (0 when none waits): an empty queue is a sample, not a gap.
      for (const name of Object.keys(PRIORITIES)) this.set({ priority: name }, 0);
      for (const level of levels) this.set({ priority: String(priorityName(level.priority)) }, level.queued);
    },
  });
  new Gauge({
    name: 'ream_queue_oldest_task_age_seconds',
    help: 'How long the longest-waiting claimable task of each priority has been due, read on scrape; 0 when none of that level waits.',
    labelNames: ['priority'] as const,
    registers: [registry],
    async collect() {
      const levels = await backlogOfScrape();
      const now = Date.now();
      this.reset();
      for (const name of Object.keys(PRIORITIES)) this.set({ priority: name }, 0);
      for (const level of levels) {
        const age = level.oldestQueuedAt === null ? 0 : Math.max(0, now - level.oldestQueuedAt) / 1000;
        this.set({ priority: String(priorityName(level.priority)) }, age);
      }
    },
  });

  // Model usage is read from the deployment's ledger on scrape (every worker's calls, like
  // ream_jobs); a counter only grows, so each scrape adds what was spent since the last.
  const seen = new Map<string, number>();
  const grow = (counter: Counter<'model' | 'kind'> | Counter<'model' | 'outcome'>, labels: Record<string, string>, total: number): void => {
    const key = JSON.stringify(labels);
    const delta = total - (seen.get(key) ?? 0);
    if (delta > 0) (counter as Counter<string>).inc(labels, delta);
    seen.set(key, Math.max(total, seen.get(key) ?? 0));
  };
  new Counter({
    name: 'ream_llm_tokens_total',
    help: 'Model tokens spent, by model and kind (prompt or completion), read from the usage ledger on scrape.',
    labelNames: ['model', 'kind'] as const,
    registers: [registry],
    async collect() {
      for (const row of await ream.usage()) {
        grow(this, { model: row.model, kind: 'prompt' }, row.promptTokens);
        grow(this, { model: row.model, kind: 'completion' }, row.completionTokens);
      }
    },
  });
  new Counter({
    name: 'ream_llm_calls_total',
    help: 'Model requests by outcome: called (the provider answered) or cached (a response cache hit, no tokens).',
    labelNames: ['model', 'outcome'] as const,
    registers: [registry],
    async collect() {
      for (const row of await ream.usage()) {
        grow(this, { model: row.model, outcome: 'called' }, row.calls);
        grow(this, { model: row.model, outcome: 'cached' }, row.cachedCalls);
      }
    },
  });

  const pages = new Counter({ name: 'ream_pages_processed_total', help: 'Pages in chunks that completed in this process.', registers: [registry] });
  const chunks = new Counter({
    name: 'ream_chunks_processed_total',
    help: 'Chunks processed in this process, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const documents = new Counter({
    name: 'ream_documents_processed_total',
    help: 'Documents that ended in this process, by outcome (completed or failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const documentSeconds = new Histogram({
    name: 'ream_document_duration_seconds',
    help: 'From document.started to its document.completed / document.failed event, seen in this process.',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const started = new Map<string, number>();

  const onEvent = (event: ReamEvent): void => {
    const key = `${event.jobId}/${event.documentId ?? ''}`;
    switch (event.type) {
      case 'chunk.completed':
        chunks.inc({ outcome: 'completed' });
        if (event.chunk) pages.inc(Math.max(0, event.chunk.to - event.chunk.from));
        break;
      case 'chunk.failed':
        chunks.inc({ outcome: 'failed' });
        break;
      case 'document.started':
        started.set(key, event.at);
        break;
      case 'document.completed':
      case 'document.failed': {
        const outcome = event.type === 'document.completed' ? 'completed' : 'failed';
        documents.inc({ outcome });
        const from = started.get(key);
        if (from !== undefined) documentSeconds.observe({ outcome }, Math.max(0, event.at - from) / 1000);
        started.delete(key);
        break;
      }
      case 'document.cancelled':
        started.delete(key); // not an outcome of its work: it was cut short
        break;
      case 'job.completed':
      case 'job.failed':
      case 'job.cancelled':
        // Documents cut short by a cancel never end with an event of their own.
        for (const k of started.keys()) if (k.startsWith(`${event.jobId}/`)) started.delete(k);
        break;
      default:
        break;
    }
  };
  const off = ream.subscribe({}, onEvent);
  return { registry, close: off };
}

const uploadCounters = new WeakMap<Ream, (via: UploadVia, bytes: number) => void>();
export type UploadVia = 'tus' | 'documents' | 'jobs';

/** Counts the bytes of a stored upload in the metrics of the server that serves `ream` (if any). */
export function countUploadBytes(ream: Ream, via: UploadVia, bytes: number): void {
  uploadCounters.get(ream)?.(via, bytes);
}

/** `GET /metrics` plus the HTTP duration histogram (an `onResponse` hook on `app`: call it on the root instance). */
export function metricsRoutes(app: FastifyInstance, ream: Ream): void {
  const metrics = createMetrics(ream);
  const http = new Histogram({
    name: 'ream_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics.registry],
  });
  const uploadBytes = new Counter({
    name: 'ream_upload_bytes_total',
    help: 'Bytes of uploaded files stored by this server, by route (tus uploads, POST /v1/documents, files in a multipart POST /v1/jobs).',
    labelNames: ['via'] as const,
    registers: [metrics.registry],
  });
  uploadCounters.set(ream, (via, bytes) => uploadBytes.inc({ via }, bytes));
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: ids would make a series per job.
    const route = request.routeOptions.url ?? 'unmatched';
    http.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    metrics.close();
    done();
  });
  // In a plugin of its own, as the other routes are: the OpenAPI document lists the routes
  // registered once its plugin has loaded. The hooks above stay on the whole app.
  void app.register((scope, _options, done) => {
    scope.get('/metrics', { ...ADMIN, schema: { summary: 'Prometheus metrics in the text exposition format (admins only)', produces: ['text/plain'], response: problemResponses } }, async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    });
    done();
  });
}
