import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { LlmPacer, MAX_RETRY_AFTER_MS, TURN_GIVEN_UP } from '../../src/analyzers/llm/pacer.ts';
import { LocalRateWindow, type RateWindow } from '../../src/analyzers/llm/rate-window.ts';
import { RedisRateWindow } from '../../src/analyzers/llm/redis-rate-window.ts';
import { ReamError } from '../../src/errors.ts';
import { requireOrSkip } from '../support/env.ts';
import { redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const signal = new AbortController().signal;

test('the local window: requests and tokens per minute over a sliding minute, starts spaced over it', async () => {
  let now = 1_000_000;
  const window = new LocalRateWindow({ requestsPerMinute: 3, tokensPerMinute: 1000, marginMs: 0 }, () => now);
  assert.equal(await window.tryAcquire(100), 0);
  assert.equal(await window.tryAcquire(100), 20_000, 'three a minute: one each 20 s, never the three at once');
  now += 20_000;
  assert.equal(await window.tryAcquire(100), 0);
  now += 20_000;
  assert.equal(await window.tryAcquire(100), 0);
  now += 10_000;
  assert.equal(await window.tryAcquire(100), 10_000, 'the fourth waits until the first leaves the minute');
  now += 10_000;
  assert.equal(await window.tryAcquire(700), 0);
  now += 20_000;
  assert.equal(await window.tryAcquire(300), 20_000, 'tokens: 800 + 300 > 1000 until the call at +40 s leaves');
  now += 20_000;
  assert.equal(await window.tryAcquire(300), 0);
  // Retry-After pauses everyone.
  await window.pause(5_000);
  assert.equal(await window.tryAcquire(1), 5_000);
});

/** A window of 1,000 tokens a minute gets a call estimated at 900 that used 100: 800 more fit at once. */
async function correctedByUsage(window: RateWindow): Promise<void> {
  const pacer = new LlmPacer({ window, maxConcurrency: 8 });
  assert.equal(await pacer.run(900, () => Promise.resolve({ promptTokens: 80, completionTokens: 20 }), signal, (reply) => reply.promptTokens + reply.completionTokens).then(() => 'ok'), 'ok');
  assert.equal(await window.tryAcquire(800), 0, 'the window counts the 100 tokens used, not the 900 estimated');
  assert.ok(await window.tryAcquire(101) > 0, 'and both calls: 900 of 1,000');
}

test('tokens per minute count what the provider says a call used, not its estimate', async () => {
  await correctedByUsage(new LocalRateWindow({ tokensPerMinute: 1000 }));
});

test('Redis: tokens per minute count what the provider says a call used, for every worker', async (t: TestContext) => {
  const why = await redisUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const window = new RedisRateWindow({ url: TEST_REDIS_URL, prefix: uniqueName('llm'), name: 'usage', tokensPerMinute: 1000 });
  try {
    await correctedByUsage(window);
  } finally {
    await window.close();
  }
});

test('AIMD: the concurrency limit halves on throttling, grows back on success; Retry-After is honoured', async () => {
  const sleeps: number[] = [];
  let now = 0;
  const pacer = new LlmPacer({ maxConcurrency: 8, now: () => now, sleep: (ms) => { sleeps.push(ms); now += ms; return Promise.resolve(); } });
  let calls = 0;
  const result = await pacer.run(10, () => {
    calls++;
    if (calls <= 2) return Promise.reject(new ReamError('llm_rate_limited', 'slow down', { retryAfterMs: 1_500 }));
    return Promise.resolve('ok');
  }, signal);
  assert.equal(result, 'ok');
  assert.deepEqual(sleeps, [1_500, 1_500]);
  assert.equal(pacer.limit, 2, '8 → 4 → 2, then +1/limit on the success');
  for (let i = 0; i < 10; i++) await pacer.run(1, () => Promise.resolve(i), signal);
  assert.ok(pacer.limit >= 4 && pacer.limit <= 8, `grew back to ${pacer.limit}`);
  // Not retried: errors that waiting cannot fix.
  await assert.rejects(pacer.run(1, () => Promise.reject(ReamError.nonRetryable('llm_refused', 'no')), signal), { code: 'llm_refused' });
});

test('without any per-minute limit, a Retry-After still holds back every other caller until it has passed', async () => {
  let now = 0;
  const pacer = new LlmPacer({ maxConcurrency: 8, maxRetries: 0, now: () => now, sleep: (ms) => { now += ms; return Promise.resolve(); } });
  await assert.rejects(pacer.run(1, () => Promise.reject(new ReamError('llm_rate_limited', 'slow down', { retryAfterMs: 3_000 })), signal), { code: 'llm_rate_limited' });
  let startedAt = -1;
  await pacer.run(1, () => {
    startedAt = now;
    return Promise.resolve();
  }, signal);
  assert.equal(startedAt, 3_000, 'another caller waited out the pause');
});

test('never more calls in flight than the limit', async () => {
  const pacer = new LlmPacer({ maxConcurrency: 3 });
  let inFlight = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 20 }, () => pacer.run(1, async () => {
    peak = Math.max(peak, ++inFlight);
    await turn();
    await turn();
    inFlight--;
  }, signal)));
  assert.equal(peak, 3);
});

test('60 requests per minute: at most 60 in any minute, and at least 0.9 × 60 while there is work (mocked clock)', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const pacer = new LlmPacer({ maxConcurrency: 8, requestsPerMinute: 60 });
  const starts: number[] = [];
  let done = 0;
  for (let i = 0; i < 150; i++) {
    void pacer.run(100, async () => {
      starts.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // 2 s of model latency
    }, signal).then(() => done++);
  }
  while (done < 150) {
    t.mock.timers.tick(100);
    await turn();
  }
  for (const start of starts) {
    const inMinute = starts.filter((s) => s >= start && s < start + 60_000).length;
    assert.ok(inMinute <= 60, `${inMinute} calls in the minute from ${start}`);
  }
  for (const minute of [0, 60_000]) {
    const count = starts.filter((s) => s >= minute && s < minute + 60_000).length;
    assert.ok(count >= 54, `${count} calls in minute ${minute / 60_000}`);
  }
  // The 61st waits for the first to leave the minute plus its 2% margin (the clock ticks by 100 ms here).
  assert.ok((starts[60] ?? 0) >= 61_200 && (starts[60] ?? 0) <= 61_300, `the 61st started at ${starts[60]}`);
  // Spread over the minute, not sent in bursts: a provider enforcing 60 a minute as 1 a second throttles none.
  for (let i = 1; i < starts.length; i++) assert.ok((starts[i] ?? 0) - (starts[i - 1] ?? 0) >= 1_000, `start ${i} came ${(starts[i] ?? 0) - (starts[i - 1] ?? 0)} ms after the one before`);
  for (const start of starts) assert.ok(starts.filter((s) => s >= start && s < start + 1_000).length <= 1);
});

test('spaced starts keep to their schedule: a start granted late (a busy event loop) does not put off every later one', async () => {
  let now = 1_000_000;
  const window = new LocalRateWindow({ requestsPerMinute: 3, marginMs: 0 }, () => now);
  assert.equal(await window.tryAcquire(1), 0);
  now += 25_000; // its turn came at +20 s; granted 5 s late
  assert.equal(await window.tryAcquire(1), 0);
  now += 14_000;
  assert.equal(await window.tryAcquire(1), 1_000, 'the next is due at +40 s, on the schedule');
  now += 1_000;
  assert.equal(await window.tryAcquire(1), 0);
  now += 20_000;
  assert.equal(await window.tryAcquire(1), 0, 'the first left the minute');
  now += 45_000; // idle for long: the schedule starts again from now
  assert.equal(await window.tryAcquire(1), 0);
  assert.equal(await window.tryAcquire(1), 20_000);
});

test('Redis: spaced starts keep to their schedule across a late grant', async (t: TestContext) => {
  const why = await redisUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const window = new RedisRateWindow({ url: TEST_REDIS_URL, prefix: uniqueName('llm'), name: 'late', requestsPerMinute: 4, windowMs: 8_000, marginMs: 0 });
  try {
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    assert.equal(await window.tryAcquire(1), 0);
    const first = Date.now();
    await sleep(2_600); // due at +2 s: granted ~0.6 s late
    assert.equal(await window.tryAcquire(1), 0);
    await sleep(Math.max(0, first + 4_100 - Date.now()));
    assert.equal(await window.tryAcquire(1), 0, 'the next was due at +4 s, not 2 s after the late one');
  } finally {
    await window.close();
  }
});

test('Redis: one window for every worker, so three workers together keep the limit', async (t: TestContext) => {
  const why = await redisUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const name = uniqueName('llm');
  const windows = Array.from({ length: 3 }, () => new RedisRateWindow({ url: TEST_REDIS_URL, prefix: name, name: 'shared', requestsPerMinute: 4, windowMs: 5_000 }));
  try {
    const starts: number[] = [];
    const pacers = windows.map((window) => new LlmPacer({ window, maxConcurrency: 8 }));
    await Promise.all(pacers.flatMap((pacer) => Array.from({ length: 4 }, () => pacer.run(1, () => {
      starts.push(Date.now());
      return Promise.resolve();
    }, signal))));
    starts.sort((a, b) => a - b);
    assert.equal(starts.length, 12);
    // 12 calls at 4 per 5 s take three windows: the last starts ≥ 10 s after the first (alone, each
    // worker would have started its 4 at once). Windows of seconds, so that a busy machine stamping
    // a start late cannot make two windows look like one (the check leaves 2 s of margin).
    assert.ok((starts.at(-1) ?? 0) - (starts[0] ?? 0) >= 9_900, `spread over ${(starts.at(-1) ?? 0) - (starts[0] ?? 0)} ms`);
    for (const start of starts) assert.ok(starts.filter((s) => s >= start && s < start + 3_000).length <= 4);
    // Spaced for every worker: 4 per 5 s is one each 1.25 s on a schedule, so a start granted late
    // is followed by one on time, at least half a spacing after it (less the jitter of stamping a start here).
    for (let i = 1; i < starts.length; i++) assert.ok((starts[i] ?? 0) - (starts[i - 1] ?? 0) >= 500, `start ${i} came ${(starts[i] ?? 0) - (starts[i - 1] ?? 0)} ms after the one before`);
    // A Retry-After one worker heard pauses the others.
    await windows[0]?.pause(10_000);
    assert.ok((await windows[1]?.tryAcquire(1) ?? 0) > 5_000);
  } finally {
    for (const window of windows) await window.close();
  }
});

test('Redis without any per-minute limit: calls go at once, and a Retry-After one worker heard still pauses the others', async (t: TestContext) => {
  const why = await redisUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const name = uniqueName('llm');
  const windows = Array.from({ length: 2 }, () => new RedisRateWindow({ url: TEST_REDIS_URL, prefix: name, name: 'unlimited' }));
  try {
    for (let i = 0; i < 20; i++) assert.equal(await windows[i % 2]?.tryAcquire(1_000), 0);
    await windows[0]?.pause(5_000);
    assert.ok((await windows[1]?.tryAcquire(1) ?? 0) > 2_000);
  } finally {
    for (const window of windows) await window.close();
  }
});

test('a Retry-After of an hour is capped: the window pauses 5 minutes, and the call fails retryably with llm_rate_limited saying what was asked', async () => {
  let now = 0;
  const window = new LocalRateWindow({}, () => now);
  const pacer = new LlmPacer({ window, maxConcurrency: 8, now: () => now, sleep: (ms) => { now += ms; return Promise.resolve(); } });
  for (const thrown of [new ReamError('llm_rate_limited', '429 quota', { retryAfterMs: 3_600_000 }), new ReamError('llm_unavailable', '503 maintenance', { retryAfterMs: 3_600_000 })]) {
    let calls = 0;
    await assert.rejects(pacer.run(1, () => {
      calls++;
      return Promise.reject(thrown);
    }, signal), (error: ReamError) => {
      assert.equal(error.code, 'llm_rate_limited');
      assert.equal(error.retryable, true);
      assert.equal(error.retryAfterMs, MAX_RETRY_AFTER_MS, 'the queue retries after the cap, not an hour');
      assert.equal(error.details?.retryAfterMs, 3_600_000);
      assert.match(error.message, /asked for a pause of 3600 s, more than the 300 s waited at most/);
      return true;
    });
    assert.equal(calls, 1, 'not retried inside the pacer');
    assert.equal(await window.tryAcquire(1), MAX_RETRY_AFTER_MS, 'every caller waits 5 minutes, not an hour');
    now += MAX_RETRY_AFTER_MS;
  }
});

test('a call refused by a long pause the window already holds (heard by another worker) does not lower this process\'s concurrency', async () => {
  const window = new LocalRateWindow({});
  await window.pause(120_000);
  const pacer = new LlmPacer({ window, maxConcurrency: 8 });
  let called = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    await assert.rejects(pacer.run(10, () => Promise.resolve(called++), signal), (error: ReamError) => error.code === 'llm_rate_limited' && (error.retryAfterMs ?? 0) > 60_000);
  }
  assert.equal(called, 0);
  assert.equal(pacer.limit, 8, 'the provider throttled no call of this process');
  assert.equal(pacer.stats.throttled, 0);
});

test('a turn given up (its job\'s budget held by other calls) is no call: out of the window, its start free again, no success for the concurrency limit', async () => {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const sleep = (ms: number): Promise<void> => {
    sleeps.push(ms);
    now += ms;
    return Promise.resolve();
  };
  // Two calls a minute: one each 30 s.
  const window = new LocalRateWindow({ requestsPerMinute: 2, marginMs: 0 }, () => now);
  const pacer = new LlmPacer({ window, maxConcurrency: 8, now: () => now, sleep });
  for (let i = 0; i < 5; i++) assert.equal(await pacer.run(10, () => Promise.resolve(TURN_GIVEN_UP), signal), TURN_GIVEN_UP);
  assert.equal(await pacer.run(10, () => Promise.resolve('made'), signal), 'made');
  assert.deepEqual(sleeps, [], 'five turns given up took neither the minute\'s calls nor their spacing: the call went at once');
  assert.equal(pacer.stats.started, 1);
  assert.equal(await window.tryAcquire(1), 30_000, 'the call made keeps its place and spacing');
  now += 30_000;
  assert.equal(await window.tryAcquire(1), 0, 'the minute\'s second call');

  // Throttled once (8 → 4), the limit does not grow back on turns given up, only on calls made.
  const adaptive = new LlmPacer({ maxConcurrency: 8, maxRetries: 0, now: () => now, sleep });
  await assert.rejects(adaptive.run(1, () => Promise.reject(new ReamError('llm_rate_limited', 'slow down', { retryAfterMs: 10 })), signal), { code: 'llm_rate_limited' });
  assert.equal(adaptive.limit, 4);
  now += 10;
  for (let i = 0; i < 20; i++) await adaptive.run(1, () => Promise.resolve(TURN_GIVEN_UP), signal);
  assert.equal(adaptive.limit, 4, 'no call was made: nothing says the provider takes more');
});

test('Redis: a turn given up leaves the shared window and frees its start for the next call, of any worker', async (t: TestContext) => {
  const why = await redisUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const prefix = uniqueName('llm');
  // Two calls per 4 s: one each 2 s.
  const [mine, other] = Array.from({ length: 2 }, () => new RedisRateWindow({ url: TEST_REDIS_URL, prefix, name: 'given-up', requestsPerMinute: 2, windowMs: 4_000, marginMs: 0 }));
  try {
    const pacer = new LlmPacer({ window: mine!, maxConcurrency: 8 });
    const started = Date.now();
    for (let i = 0; i < 3; i++) assert.equal(await pacer.run(10, () => Promise.resolve(TURN_GIVEN_UP), signal), TURN_GIVEN_UP);
    assert.deepEqual(await mine!.starts(), [], 'no start recorded');
    assert.equal(await other!.tryAcquire(1, 'made'), 0, 'another worker\'s call goes at once');
    assert.ok(Date.now() - started < 1_500, `the turns given up held nobody up (${Date.now() - started} ms)`);
    assert.ok(await mine!.tryAcquire(1) > 1_000, 'a call made keeps its spacing');
    assert.equal((await mine!.starts()).length, 1);
  } finally {
    await mine?.close();
    await other?.close();
  }
});
