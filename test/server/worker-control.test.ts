// Worker monitoring and control over HTTP: GET /v1/workers shows each worker's resources, the
// tasks it runs (job, document, chunk, age) and its recent tasks; an admin pauses, resumes and
// drains a worker; /metrics has each worker's CPU and memory; /readyz names a service that is down.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Analyzer } from '../../src/analyzers/port.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { extractWith } from '../support/analyzers.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

interface TaskView {
  taskId: string;
  kind: string;
  jobId: string;
  documentId?: string;
  chunk?: { index: number; from: number; to: number };
  ageMs?: number;
  outcome?: string;
}
interface WorkerView {
  id: string;
  state: string;
  pausedReason?: string;
  command?: string;
  cpuPercent: number;
  rssMb: number;
  running: TaskView[];
  recent: TaskView[];
}

/** The analyzer holds every chunk until the test opens the gate. */
let openGate: () => void = () => undefined;
let gate = new Promise<void>((resolve) => (openGate = resolve));
const held: Analyzer = { name: 'held', config: null, analyze: async () => (await gate, {}) };

let dir: string;
let ream: Ream;
let server: RunningServer;
let admin: string;
let user: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-worker-control-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, concurrency: 2, pipelines: extractWith('held', held) });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const { store } = adaptersOf(ream);
  admin = (await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' })).token;
  user = (await issueApiKey(store, { tenantId: 't', name: 'user', role: 'user' })).token;
});
after(async () => {
  openGate();
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (path: string, key = admin, method = 'GET'): Promise<Response> =>
  fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });

async function workers(): Promise<WorkerView[]> {
  const response = await call('/v1/workers');
  assert.equal(response.status, 200);
  return ((await response.json()) as { items: WorkerView[] }).items;
}

/** Polls GET /v1/workers until `check` holds (a worker beats every 2 s). */
async function until(what: string, check: (list: WorkerView[]) => boolean): Promise<WorkerView[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await workers();
    if (check(list)) return list;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function submit(pages: number): Promise<string> {
  const body = new FormData();
  body.append('pipeline', 'held');
  body.append('options', '{"chunkPages":2}');
  body.append('file', new Blob([await makePdf({ pages: numberedPages('W', pages) })], { type: 'application/pdf' }), 'w.pdf');
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body, headers: { authorization: `Bearer ${user}` } });
  assert.equal(response.status, 202);
  return ((await response.json()) as { id: string }).id;
}

test('GET /v1/workers: resources, the tasks in flight with job, document, chunk and age, then the recent ones', async () => {
  const jobId = await submit(6);
  const [busy] = await until('two chunks in flight', (list) => list[0]?.running.filter((t) => t.kind === 'chunk.extract').length === 2);
  assert.ok(busy);
  const chunks = busy.running.filter((t) => t.kind === 'chunk.extract');
  assert.ok(chunks.every((t) => t.jobId === jobId && typeof t.documentId === 'string' && t.chunk !== undefined && (t.ageMs ?? -1) >= 0));
  assert.deepEqual(chunks.map((t) => t.chunk?.from).sort(), [0, 2], 'the first two chunks of two pages');
  assert.ok(busy.cpuPercent >= 0 && busy.rssMb > 10, `cpu ${busy.cpuPercent} %, rss ${busy.rssMb} MB`);

  openGate();
  await ream.wait(jobId);
  const [idle] = await until('the tasks among the recent ones', (list) => (list[0]?.recent.filter((t) => t.kind === 'chunk.extract').length ?? 0) >= 3);
  assert.deepEqual(idle?.running, []);
  assert.ok(idle?.recent.filter((t) => t.jobId === jobId).every((t) => t.outcome === 'completed'));
  assert.ok(idle?.recent.some((t) => t.kind === 'document.merge'), 'newest first, the merge among them');

  const metrics = await (await call('/metrics')).text();
  assert.match(metrics, new RegExp(`ream_worker_resident_memory_bytes\\{worker="${idle?.id}"\\} [1-9]`));
  assert.match(metrics, /ream_worker_cpu_percent\{worker=/);
});

test('an admin pauses a worker (it takes nothing new), resumes it, and drains it; users may not', async () => {
  const [worker] = await workers();
  assert.ok(worker);
  const path = (command: string): string => `/v1/workers/${encodeURIComponent(worker.id)}/${command}`;
  assert.equal((await call(path('pause'), user, 'POST')).status, 403);
  assert.equal((await call('/v1/workers/nobody/pause', admin, 'POST')).status, 404);

  const paused = await call(path('pause'), admin, 'POST');
  assert.equal(paused.status, 202);
  assert.equal(((await paused.json()) as WorkerView).command, 'pause');
  const [seen] = await until('the pause heard', (list) => list[0]?.state === 'paused');
  assert.equal(seen?.pausedReason, 'paused by an admin');
  gate = new Promise<void>((resolve) => (openGate = resolve));
  openGate(); // nothing holds the next job: only the pause does
  const jobId = await submit(2);
  // Two beats and more: a worker that still claimed would have started (and finished) the job.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  assert.equal((await ream.getJob(jobId))?.status, 'queued', 'no task was taken while paused');

  assert.equal((await call(path('resume'), admin, 'POST')).status, 202);
  assert.equal((await ream.wait(jobId)).status, 'succeeded');

  assert.equal((await call(path('drain'), admin, 'POST')).status, 202);
  await until('the drained worker gone from the list', (list) => list.length === 0);
  assert.equal((await call('/healthz')).status, 200, 'the server goes on answering');
  const later = await submit(2);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal((await ream.getJob(later))?.status, 'queued', 'a drained worker works no more');
});

test('/readyz answers ready while the store, queue and blob store answer', async () => {
  const response = await fetch(`${server.url}/readyz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ready', recovery: 'done' });
});
