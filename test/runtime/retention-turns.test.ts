// Embedded: a retention sweep, and the deletion of a large job, let the event loop go round as they
// go (SQLite answers on the one thread at once: they held every request of the server to their end).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const DAY = 24 * 3600_000;
const progress = { documentsDone: 0, documentsTotal: 0, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null };

/** A finished job of tenant t with `events` stored events. */
async function finishedJob(ream: Ream, events: number): Promise<string> {
  const store = adaptersOf(ream).store;
  const job = await store.createJob({ id: randomUUID(), tenantId: 't', key: null, pipeline: 'default', options: {}, priority: 0 }, Date.now());
  for (let i = 0; i < events; i++) await store.appendEvent({ type: 'stage.completed', jobId: job.id, tenantId: 't', at: Date.now(), progress, message: 'x'.repeat(100) });
  await store.updateJob(job.id, { status: 'succeeded', finishedAt: Date.now() });
  return job.id;
}

/** Runs `work`, counting the event loop's turns meanwhile; answers them with its wall time. */
async function turnsDuring(work: () => Promise<unknown>): Promise<{ turns: number; ms: number }> {
  let turns = 0;
  let counting = true;
  const turn = (): void => {
    if (!counting) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  const started = Date.now();
  await work();
  const ms = Date.now() - started;
  counting = false;
  return { turns, ms };
}

void test('a sweep of 300 jobs and the deletion of a job of 20,000 events let the event loop go round', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-retention-turns-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false, retention: { jobsDays: 1 } });
  try {
    const large = await finishedJob(ream, 20_000);
    const deletion = await turnsDuring(() => ream.deleteJob(large));
    // At least one turn per 100 ms of it (a turn every 10 ms is the aim); none at all before.
    assert.ok(deletion.turns >= Math.max(1, Math.floor(deletion.ms / 100)), `${deletion.turns} turns in ${deletion.ms} ms of deleting a job`);

    for (let i = 0; i < 300; i++) await finishedJob(ream, 5);
    let swept = 0;
    const sweep = await turnsDuring(async () => (swept = (await ream.sweepRetention(Date.now() + 2 * DAY)).jobs));
    assert.equal(swept, 300);
    assert.ok(sweep.turns >= Math.max(1, Math.floor(sweep.ms / 100)), `${sweep.turns} turns in ${sweep.ms} ms of sweeping`);
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});
