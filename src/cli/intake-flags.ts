import { InvalidArgumentError, type Command } from 'commander';
import type { IntakeLimits } from '../runtime/ream.ts';
import { positiveInt } from './parse-flags.ts';

export interface IntakeFlags {
  maxRss?: number;
  maxLag?: number;
  maxCpu?: number;
}

function percent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw new InvalidArgumentError('expected a percentage above 0 and at most 100');
  return n;
}

/** `--max-rss`, `--max-lag`, `--max-cpu` (worker, serve): when a process stops claiming tasks. */
export function addIntakeFlags(command: Command): Command {
  return command
    .option('--max-rss <MB>', 'stop claiming while this process uses more memory', positiveInt)
    .option('--max-lag <ms>', 'stop claiming while the event loop lags more than this', positiveInt)
    .option('--max-cpu <percent>', "stop claiming while the machine's CPUs are busier than this (percent of all cores, over 2 s)", percent);
}

/** The intake limits the flags ask for (none by default). */
export function intakeFromFlags(flags: IntakeFlags): IntakeLimits {
  return {
    ...(flags.maxRss === undefined ? {} : { maxRssMb: flags.maxRss }),
    ...(flags.maxLag === undefined ? {} : { maxEventLoopLagMs: flags.maxLag }),
    ...(flags.maxCpu === undefined ? {} : { maxCpuPercent: flags.maxCpu }),
  };
}
