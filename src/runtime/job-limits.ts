// Ceilings on what a job may ask for. A pipeline's options (`maxPages`, `maxBytes`,
// `chunkPages`) and a job's priority are the submitter's to choose, but a service must not let
// any tenant lift its limits: `maxPages: 2000000000` on a 10,000-page server, `chunkPages: 1`
// (a task per page), or `critical` to jump every queue. The limits are checked on the pipeline
// the options build, so they hold for pipelines of one's own too.
import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { priorityName } from './job-view.ts';

export type JobLimitName = 'maxPages' | 'maxRows' | 'maxBytes' | 'minChunkPages' | 'maxPriority';

/** Every limit is optional: the library sets none by default, `ream serve` sets all of them. */
export interface JobLimits {
  /** Longest document a job may accept (`options.maxPages`); also the job's limit when its pipeline's default is higher. */
  maxPages?: number;
  /**
   * Longest table a job whose pages are rows (the `rows` pipeline) may accept, in place of
   * `maxPages`: a report server may accept 10,000-page PDFs and million-row spreadsheets.
   * Unset: `maxPages` holds for rows too.
   */
  maxRows?: number;
  /** Largest file a job may accept, in bytes (`options.maxBytes`); also the job's limit when its pipeline's default is higher. */
  maxBytes?: number;
  /** Fewest pages per chunk (`options.chunkPages`); also the job's chunk size when its pipeline's default is lower. */
  minChunkPages?: number;
  /** Highest priority a job may have unless its submitter is an admin. */
  maxPriority?: number;
  /** What sets each limit, named in refusals (`--max-pages`). Default `jobLimits.<name>`. */
  setBy?: Partial<Record<JobLimitName, string>>;
}

export interface LimitedJob {
  pipeline: string;
  options: JsonObject;
  priority?: number;
  /** An admin may use any priority. */
  admin?: boolean;
}

/**
 * Checks a job against the limits and answers its options, with the limits written in where the
 * pipeline's defaults would exceed them (so every worker reads the same values later). An
 * option set over a limit is refused (`validation_failed`, naming the limit and what sets it).
 */
export function limitJob(job: LimitedJob, limits: JobLimits, build: (options: JsonObject) => Pipeline): JsonObject {
  const refuse = (message: string, name: JobLimitName): ReamError =>
    ReamError.nonRetryable('validation_failed', `${message} (${limits.setBy?.[name] ?? `jobLimits.${name}`})`, { details: { limit: name } });
  if (limits.maxPriority !== undefined && job.admin !== true && (job.priority ?? 0) > limits.maxPriority) {
    throw refuse(`priority ${label(job.priority ?? 0)} is over the highest this server allows a non-admin: ${label(limits.maxPriority)}`, 'maxPriority');
  }
  const checks: Array<{ option: string; name: JobLimitName; limit: number | undefined; value: (p: Pipeline) => number; over: (value: number, limit: number) => boolean; words: string }> = [
    { option: 'maxPages', name: 'maxPages', limit: limits.maxPages, value: (p) => p.limits.maxPages, over: (v, l) => v > l, words: 'over this server\'s limit of' },
    { option: 'maxBytes', name: 'maxBytes', limit: limits.maxBytes, value: (p) => p.limits.maxBytes, over: (v, l) => v > l, words: 'over this server\'s limit of' },
    { option: 'chunkPages', name: 'minChunkPages', limit: limits.minChunkPages, value: (p) => p.chunkPages, over: (v, l) => v < l, words: 'under this server\'s minimum of' },
  ];
  let options = job.options;
  let pipeline = build(options);
  if (pipeline.read?.tablePages === 'rows' && limits.maxRows !== undefined) {
    // Its pages are a table's rows (and any other input's pages): the row ceiling holds instead.
    checks[0] = { ...checks[0]!, name: 'maxRows', limit: limits.maxRows };
  }
  for (const { option, name, limit, value, over, words } of checks) {
    if (limit === undefined || !over(value(pipeline), limit)) continue;
    if (Object.hasOwn(options, option)) throw refuse(`options.${option} ${JSON.stringify(options[option])} is ${words} ${limit}`, name);
    // The pipeline's default is past the limit: the limit becomes the job's value.
    options = { ...options, [option]: limit };
    pipeline = build(options);
    if (over(value(pipeline), limit)) {
      throw refuse(`pipeline "${job.pipeline}" ignores options.${option} and uses ${value(pipeline)}, ${words} ${limit}`, name);
    }
  }
  return options;
}

function label(priority: number): string {
  return String(priorityName(priority));
}
