import { Option, type Command } from 'commander';
import { DEFAULT_LIMITS } from '../pipeline/builtin.ts';
import type { ReamOptions } from '../runtime/create-ream.ts';
import { PRIORITIES, type PriorityName } from '../api-types.ts';
import { DEFAULT_MAX_MEMORY_MB } from '../runtime/ream.ts';
import { DEFAULT_MAX_ROWS } from '../pipeline/rows-pipeline.ts';
import { positiveInt, positiveNumber } from './parse-flags.ts';

const MB = 1024 * 1024;

/**
 * Fewest pages per chunk a job may ask for by default. A chunk is a task, a checkpoint and
 * events: `chunkPages: 1` on a 10,000-page file is 10,000 of each. 10 keeps the largest allowed
 * document under 1,000 chunks and still spreads a 20-page file over two threads.
 */
export const DEFAULT_MIN_CHUNK_PAGES = 10;
/** The highest priority a non-admin may give a job by default: `critical` jumps every queue. */
export const DEFAULT_MAX_PRIORITY: PriorityName = 'high';
/** Longest one parsing task may run by default (`--timeout` of `ream run`, `serve` and `worker`). */
export const DEFAULT_TIMEOUT_SECONDS = 120;

export interface LimitFlags {
  maxPages: number;
  maxRows: number;
  maxSize: number;
  minChunkPages: number;
  maxPriority: PriorityName;
  maxMemory: number;
  timeout: number;
}

/**
 * The limits of a server: what any tenant's job may ask for (refused beyond them with 400
 * `validation_failed` naming the flag) and what a parsing thread may use. See docs/security.md.
 */
export function addLimitFlags(command: Command): Command {
  return command
    .option('--max-pages <n>', 'longest document a job may accept (options.maxPages)', positiveInt, DEFAULT_LIMITS.maxPages)
    .option('--max-rows <n>', 'longest table a rows job may accept (its options.maxPages: a row is a page)', positiveInt, DEFAULT_MAX_ROWS)
    .option('--max-size <MB>', 'largest file an upload or a job may take (options.maxBytes)', positiveNumber, DEFAULT_LIMITS.maxBytes / MB)
    .option('--min-chunk-pages <n>', 'fewest pages per chunk a job may ask for (options.chunkPages)', positiveInt, DEFAULT_MIN_CHUNK_PAGES)
    .addOption(new Option('--max-priority <name>', 'highest priority a non-admin may give a job').choices(Object.keys(PRIORITIES)).default(DEFAULT_MAX_PRIORITY))
    .option('--max-memory <MB>', 'heap cap per parsing thread (at least 16), and the same again for its buffers (decoded streams); past either: resource_limit', positiveInt, DEFAULT_MAX_MEMORY_MB)
    .option('--timeout <seconds>', 'longest one parsing task may run (timeout, not retried)', positiveNumber, DEFAULT_TIMEOUT_SECONDS);
}

/** What the limit flags set: on the ream (jobs and threads) and on the server (uploads). */
export function limitsFromFlags(flags: LimitFlags): { ream: Pick<ReamOptions, 'jobLimits' | 'maxMemoryMb' | 'taskTimeoutMs'>; maxFileBytes: number } {
  const maxBytes = Math.round(flags.maxSize * MB);
  return {
    ream: {
      jobLimits: {
        maxPages: flags.maxPages,
        maxRows: flags.maxRows,
        maxBytes,
        minChunkPages: flags.minChunkPages,
        maxPriority: PRIORITIES[flags.maxPriority],
        setBy: { maxPages: '--max-pages', maxRows: '--max-rows', maxBytes: '--max-size', minChunkPages: '--min-chunk-pages', maxPriority: '--max-priority' },
      },
      maxMemoryMb: flags.maxMemory,
      taskTimeoutMs: Math.round(flags.timeout * 1000),
    },
    maxFileBytes: maxBytes,
  };
}
