import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processBatch, type BatchEvent } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';

function describe(event: BatchEvent<string, string>): string {
  switch (event.type) {
    case 'batch.started':
      return `batch.started c=${event.concurrency}`;
    case 'item.started':
      return `item.started ${event.item}`;
    case 'item.retrying':
      return `item.retrying ${event.item} attempt=${event.attempt} delay=${event.delayMs} ${event.error.code}`;
    case 'item.succeeded':
      return `item.succeeded ${event.result.item}=${event.result.value} attempts=${event.result.attempts}`;
    case 'item.failed':
      return `item.failed ${event.result.item} ${event.result.error.code} attempts=${event.result.attempts}`;
    case 'item.skipped':
      return `item.skipped ${event.result.item}`;
    case 'batch.completed': {
      const { succeeded, failed, skipped, cancelled } = event.summary;
      return `batch.completed ${succeeded}/${failed}/${skipped} cancelled=${cancelled}`;
    }
  }
}

void test('events tell the story of a batch, in order', async () => {
  const log: string[] = [];
  const result = await processBatch(['ok', 'flaky', 'bad'], (item, { attempt }) => {
    if (item === 'flaky' && attempt === 1) throw new Error('try again');
    if (item === 'bad') throw ReamError.nonRetryable('invalid_text', 'never');
    return item.toUpperCase();
  }, {
    concurrency: 1,
    retry: { baseDelayMs: 4, random: () => 0.5 },
    onEvent: (event) => log.push(describe(event)),
  });
  assert.deepEqual(log, [
    'batch.started c=1',
    'item.started ok',
    'item.succeeded ok=OK attempts=1',
    'item.started flaky',
    'item.retrying flaky attempt=1 delay=2 internal',
    'item.succeeded flaky=FLAKY attempts=2',
    'item.started bad',
    'item.failed bad invalid_text attempts=1',
    'batch.completed 2/1/0 cancelled=false',
  ]);
  assert.equal(result.failed, 1);
});

void test('a listener that throws, or rejects, does not break the batch; it is reported once', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    const throwing = await processBatch([1, 2, 3], (n) => n, {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    assert.equal(throwing.succeeded, 3);
    const rejecting = await processBatch([1, 2, 3], (n) => n, {
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the mistake under test: an async listener
      onEvent: async () => {
        await Promise.resolve();
        throw new Error('async listener bug');
      },
    });
    assert.equal(rejecting.succeeded, 3);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(warnings.length, 2, warnings.map((w) => w.message).join('\n'));
  assert.match(warnings[0]?.message ?? '', /listener bug/);
  assert.match(warnings[1]?.message ?? '', /async listener bug/);
});
