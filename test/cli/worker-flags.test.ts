import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerWorkerCommand, workerReamOptions } from '../../src/cli/worker-command.ts';

const distributed = { redisUrl: 'redis://127.0.0.1:1', databaseUrl: 'postgres://127.0.0.1:1/x', s3: { bucket: 'b' } };

/** The options `ream worker <args>` opens its ream with (its flags parsed, its action not run). */
function optionsOf(...args: string[]): ReturnType<typeof workerReamOptions> {
  const program = new Command('ream');
  registerWorkerCommand(program);
  const worker = program.commands.find((command) => command.name() === 'worker');
  assert.ok(worker);
  worker.exitOverride().configureOutput({ writeErr: () => undefined });
  worker.parseOptions(args);
  return workerReamOptions(worker.opts(), distributed, undefined, undefined);
}

void test('ream worker --timeout sets the time limit of the tasks it runs; 120 s without it, as ream serve and ream run', () => {
  assert.equal(optionsOf().taskTimeoutMs, 120_000);
  assert.equal(optionsOf('--timeout', '600').taskTimeoutMs, 600_000);
  assert.equal(optionsOf('--timeout', '1.5').taskTimeoutMs, 1_500);
  assert.throws(() => optionsOf('--timeout', '0'));
});

void test('ream worker flags reach its ream', () => {
  const options = optionsOf('--threads', '2', '--concurrency', '3', '--max-memory', '256', '--lease', '10', '--data-dir', '/tmp/x');
  assert.deepEqual(
    { threads: options.threads, concurrency: options.concurrency, maxMemoryMb: options.maxMemoryMb, leaseMs: options.leaseMs, dataDir: options.dataDir, recover: options.recover },
    { threads: 2, concurrency: 3, maxMemoryMb: 256, leaseMs: 10_000, dataDir: '/tmp/x', recover: false },
  );
});
