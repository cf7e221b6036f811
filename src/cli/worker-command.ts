import type { Command } from 'commander';
import type { ReamOptions } from '../runtime/create-ream.ts';
import { ReamError } from '../errors.ts';
import { addDeploymentFlags, deploymentFromFlags, type DeploymentFlags } from './deployment-flags.ts';
import { addIntakeFlags, intakeFromFlags, type IntakeFlags } from './intake-flags.ts';
import { loadPipelines } from './load-pipelines.ts';
import { addCreditFlags, creditsFromFlags, type CreditFlags } from './credit-flags.ts';
import { DEFAULT_TIMEOUT_SECONDS } from './limit-flags.ts';
import { positiveInt, positiveNumber } from './parse-flags.ts';
import { untilStopSignal } from './signals.ts';
import { addWebhookFlags, webhookAddressOptions, type WebhookFlags } from './webhook-flags.ts';

interface WorkerFlags extends DeploymentFlags, WebhookFlags, IntakeFlags {
  concurrency?: number;
  lease: number;
  dataDir: string;
  pipelines?: string;
  threads?: number;
  drainTimeout: number;
  maxMemory?: number;
  timeout: number;
}

/**
 * `ream worker`: a process that only works tasks of a distributed deployment. SIGTERM (or
 * Ctrl-C, or an admin's `POST /v1/workers/:id/drain`) drains: it stops claiming, lets running
 * tasks finish for up to `--drain-timeout`, gives back what still runs, and exits 0. A second
 * signal gives back at once.
 */
export function registerWorkerCommand(program: Command): void {
  const command = program
    .command('worker')
    .description('work tasks of a distributed deployment (Redis + PostgreSQL + S3); SIGTERM drains')
    .option('-c, --concurrency <n>', 'tasks in flight at once (default: 2 × threads)', positiveInt)
    .option('--threads <n>', 'worker threads for parsing (default: the number of cores)', positiveInt)
    .option('--max-memory <MB>', 'heap cap per parsing thread (default 512)', positiveInt)
    .option('--timeout <seconds>', 'longest one parsing task may run in this process (timeout, not retried)', positiveNumber, DEFAULT_TIMEOUT_SECONDS)
    .option('--data-dir <dir>', 'local folder for copies of the documents it parses', '.ream')
    .option('--lease <seconds>', 'task lease: if this process dies, its tasks are taken over after this long', positiveInt, 30)
    .option('--pipelines <module>', 'a module whose "pipelines" export adds pipelines of your own (the server must load the same)')
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long running tasks may finish before they are given back', positiveInt, 30);
  addCreditFlags(command);
  addDeploymentFlags(addWebhookFlags(addIntakeFlags(command))).action(async (flags: WorkerFlags & CreditFlags) => {
    const distributed = deploymentFromFlags(flags);
    if (!distributed) {
      throw ReamError.nonRetryable(
        'validation_failed',
        'ream worker needs a distributed deployment: give --redis-url, --database-url and --s3-bucket (or REAM_REDIS_URL, REAM_DATABASE_URL, REAM_S3_BUCKET); embedded, `ream serve` and `ream run` work in-process',
      );
    }
    const pipelines = await loadPipelines(flags.pipelines);
    const credits = creditsFromFlags(flags);
    const { createReam } = await import('../runtime/create-ream.ts');
    // An admin's drain (POST /v1/workers/:id/drain) ends the process as SIGTERM does.
    let drainRequested: () => void = () => undefined;
    const requested = new Promise<string>((resolve) => (drainRequested = () => resolve('an admin asked to drain')));
    const ream = await createReam({
      ...workerReamOptions(flags, distributed, pipelines, credits),
      onDrainRequested: () => drainRequested(),
    });
    process.stderr.write(`ream worker ${process.pid}: working (SIGTERM drains for up to ${flags.drainTimeout} s)\n`);
    const why = await Promise.race([untilStopSignal().then(() => 'a stop signal'), requested]);
    process.stderr.write(`ream worker ${process.pid}: draining (${why})…\n`);
    const hurry = (): void => void ream.close();
    process.once('SIGINT', hurry);
    process.once('SIGTERM', hurry);
    await ream.drain(flags.drainTimeout * 1000);
    process.stderr.write(`ream worker ${process.pid}: stopped\n`);
  });
}

/** The ream a `ream worker` opens, from its flags. */
export function workerReamOptions(
  flags: WorkerFlags,
  distributed: NonNullable<ReamOptions['distributed']>,
  pipelines: ReamOptions['pipelines'],
  credits: ReamOptions['credits'],
): ReamOptions {
  return {
    distributed,
    dataDir: flags.dataDir,
    leaseMs: flags.lease * 1000,
    ...(pipelines === undefined ? {} : { pipelines }),
    ...(credits === undefined ? {} : { credits }),
    // Workers leave recovery to the server: it runs once per deployment start, not per worker.
    recover: false,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
    ...(flags.maxMemory === undefined ? {} : { maxMemoryMb: flags.maxMemory }),
    // The pool that runs a task enforces its time limit: a worker's own, not the server's.
    taskTimeoutMs: Math.round(flags.timeout * 1000),
    webhooks: webhookAddressOptions(flags),
    intake: intakeFromFlags(flags),
  };
}
