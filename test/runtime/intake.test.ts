import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { IntakeGate } from '../../src/runtime/intake.ts';
import { sleep } from '../conformance/suite.ts';

void test('intake closes while memory is over its limit, and stays open without limits', () => {
  const open = new IntakeGate({});
  assert.equal(open.state().open, true);
  const tight = new IntakeGate({ maxRssMb: 1 });
  const state = tight.state();
  assert.equal(state.open, false);
  assert.match(state.reason ?? '', /^memory \d+ MB is over 1 MB$/);
  open.close();
  tight.close();
});

void test('intake measures event-loop lag over a window and closes while it is over the limit', async () => {
  // Windows of 1 s: the one that saw the block keeps intake closed for a whole second after it
  // ends, long enough to be seen even when this process waits its turn for a CPU; and short
  // enough (about 50 samples) that its p99 is the block's sample.
  const gate = new IntakeGate({ maxEventLoopLagMs: 200 }, 1_000);
  try {
    await sleep(50); // let the sampling start
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // block the event loop, as a CPU-heavy task on it would
    }
    // The window that saw the block closes within a second and measures it.
    for (const deadline = Date.now() + 30_000; gate.state().open && Date.now() < deadline; ) await sleep(20);
    const state = gate.state();
    assert.ok(state.lagMs >= 400, `measured ${state.lagMs} ms of lag`);
    assert.equal(state.open, false);
    assert.match(state.reason ?? '', /^event-loop lag \d+ ms is over 200 ms$/);
  } finally {
    gate.close();
  }
});

void test('intake opens again once memory is back under its limit', () => {
  let rss = 900;
  const gate = new IntakeGate({ maxRssMb: 800 }, 2_000, { rssMb: () => rss });
  assert.equal(gate.state().open, false);
  rss = 700;
  assert.deepEqual(gate.state(), { open: true, rssMb: 700, lagMs: 0, cpuPercent: 0 });
  gate.close();
});

void test('intake closes while the machine was busier than its CPU limit over the last window, and opens when it calms down', () => {
  let times = { busy: 0, total: 0 };
  // A long window: the test closes each window itself with sample().
  const gate = new IntakeGate({ maxCpuPercent: 80 }, 3_600_000, { cpuTimes: () => times });
  try {
    assert.equal(gate.state().open, true, 'open before anything is measured');
    times = { busy: 900, total: 1_000 }; // 90% busy over this window
    gate.sample();
    const busy = gate.state();
    assert.equal(busy.open, false);
    assert.equal(busy.cpuPercent, 90);
    assert.equal(busy.reason, 'CPU use 90% is over 80%');
    times = { busy: 1_200, total: 2_000 }; // 30% busy over the next
    gate.sample();
    assert.deepEqual({ open: gate.state().open, cpu: gate.state().cpuPercent }, { open: true, cpu: 30 });
  } finally {
    gate.close();
  }
});

void test('intake reads the real machine CPU use: a spinning loop shows as busy', async () => {
  const gate = new IntakeGate({ maxCpuPercent: 100 }, 3_600_000);
  try {
    gate.sample();
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // one core busy: at least 100 / cores percent of the machine
    }
    gate.sample();
    const { cpuPercent } = gate.state();
    const floor = (100 / cpus().length) * 0.8;
    assert.ok(cpuPercent >= floor && cpuPercent <= 100, `measured ${cpuPercent}% (expected ≥ ${floor}%)`);
  } finally {
    gate.close();
  }
  await sleep(0);
});

void test('a worker whose intake is closed takes no task and says it is paused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-intake-'));
  const ream = await createReam({ dataDir: dir, threads: 1, intake: { maxRssMb: 1 } });
  try {
    await writeFile(join(dir, 'a.txt'), 'hello');
    const job = await ream.submit({ files: [join(dir, 'a.txt')] });
    // Wait for the worker to say it is paused (its first heartbeat), then give it a moment more
    // in which a worker that ignored its intake would have claimed the task.
    const paused = async (): Promise<boolean> => (await ream.listWorkers(0))[0]?.state === 'paused';
    for (const deadline = Date.now() + 30_000; !(await paused()) && Date.now() < deadline; ) await sleep(20);
    await sleep(500);
    assert.equal((await ream.getJob(job.id))?.status, 'queued', 'nothing was claimed');
    const [worker] = await ream.listWorkers(0);
    assert.equal(worker?.state, 'paused');
    assert.equal(worker.inFlight, 0);
    const detail = worker.detail as { pausedReason?: string; intakeLimits?: unknown };
    assert.match(detail.pausedReason ?? '', /^memory \d+ MB is over 1 MB$/);
    assert.deepEqual(detail.intakeLimits, { maxRssMb: 1 });
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});
