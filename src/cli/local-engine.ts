import { Option, type Command } from 'commander';
import type { ReamOptions } from '../runtime/create-ream.ts';
import { positiveInt, positiveNumber } from './parse-flags.ts';

/** The engine settings of a command that does the work in its own process (`ream run`, `ream rows`). */
export interface LocalEngineOptions {
  concurrency?: number;
  threads?: number;
  timeoutSeconds?: number;
  maxMemoryMb?: number;
}

/** What `--concurrency`, `--threads`, `--timeout` and `--max-memory` set, from commander's flags. */
export function localEngineFlags(flags: Record<string, unknown>): LocalEngineOptions {
  return {
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency as number }),
    ...(flags.threads === undefined ? {} : { threads: flags.threads as number }),
    ...(flags.timeout === undefined ? {} : { timeoutSeconds: flags.timeout as number }),
    ...(flags.maxMemory === undefined ? {} : { maxMemoryMb: flags.maxMemory as number }),
  };
}

/** The `createReam` options of such a command over `dataDir`: embedded, working in this process. */
export function localReamOptions(dataDir: string, options: LocalEngineOptions): ReamOptions {
  return {
    dataDir,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.timeoutSeconds === undefined ? {} : { taskTimeoutMs: options.timeoutSeconds * 1000 }),
    ...(options.maxMemoryMb === undefined ? {} : { maxMemoryMb: options.maxMemoryMb }),
  };
}

/** The flags of such a command: engine settings ({@link localEngineFlags} reads them), data dir and progress display. */
export function addLocalEngineFlags(command: Command): Command {
  return command
    .option('-c, --concurrency <n>', 'tasks in flight at once (default: 2 × threads)', positiveInt)
    .option('--threads <n>', 'worker threads for parsing (default: the number of cores)', positiveInt)
    .option('--timeout <seconds>', 'kill a parsing task after this long (default 120)', positiveNumber)
    .option('--max-memory <MB>', 'heap cap per parsing thread, at least 16; a file that needs more fails with resource_limit (default 512)', positiveInt)
    .option('--data-dir <dir>', 'where the database, stored files and checkpoints live', '.ream')
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'lines', 'none']).default('auto'));
}
