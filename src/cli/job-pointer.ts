import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ReamError } from '../errors.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import type { Ream } from '../runtime/create-ream.ts';
import type { JobRecord } from '../store/port.ts';

/** What makes two invocations "the same command": equal identities find the same job. */
export interface CommandIdentity {
  out: string;
  pipeline: string;
  options: JsonObject;
  /** `ream rows`: the input file (path, size, modification time): an edited file is new work. */
  input?: JsonObject;
}

/**
 * The job of "this command": its id is kept in the data dir under a hash of the identity, so
 * the same command finds it again and carries on from its checkpoints. `fresh` (--no-resume)
 * removes it (cancelling it if it runs) and starts a new one, which the next runs then resume.
 */
export async function currentJob(ream: Ream, dataDir: string, identity: CommandIdentity, fresh: boolean): Promise<JobRecord> {
  const pointer = join(dataDir, 'runs', `${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}.json`);
  const previousId = existsSync(pointer) ? (JSON.parse(readFileSync(pointer, 'utf8')) as { jobId?: string }).jobId : undefined;
  const previous = previousId ? await ream.getJob(previousId) : undefined;
  if (previous && !fresh && previous.status !== 'cancelled') return previous;
  // Replaced: its queued work must not run on, and nothing will read its records again (the
  // results file starts over). Removed, so that a command run again and again (a nightly
  // `--no-resume`) does not grow the data dir by a whole job each time; its documents stay.
  if (previous && fresh) await ream.deleteJob(previous.id);
  const job = await ream.createJob({ pipeline: identity.pipeline, options: identity.options });
  mkdirSync(dirname(pointer), { recursive: true });
  writeFileSync(pointer, JSON.stringify({ jobId: job.id }));
  return job;
}

/** The record of what last wrote `out` (a results file), kept in the data dir beside the job pointers. */
function outputRecord(dataDir: string, out: string): string {
  return join(dataDir, 'runs', `out-${createHash('sha256').update(out).digest('hex')}.json`);
}

/**
 * Refuses (`validation_failed`) to resume `out` with other settings than the run that wrote it:
 * its lines would be skipped as done, and silently stand for work done otherwise (no text where
 * `--text full` was asked, no fields where `--rules` were given). Nothing to check on a fresh run
 * or before any run wrote `out` with this data dir.
 */
export function checkOutputSettings(dataDir: string, out: string, settings: JsonObject, mayChange: readonly string[] = []): void {
  const record = outputRecord(dataDir, out);
  if (!existsSync(record)) return;
  const previous = (JSON.parse(readFileSync(record, 'utf8')) as { settings?: JsonObject }).settings ?? {};
  const compared = (value: JsonValue | undefined, key: string): string => JSON.stringify(key === 'options' ? withoutKeys(value, mayChange) : value);
  const changed = [...new Set([...Object.keys(previous), ...Object.keys(settings)])]
    .filter((key) => compared(previous[key], key) !== compared(settings[key], key));
  if (changed.length === 0) return;
  throw ReamError.nonRetryable('validation_failed', `${out} holds results made with other settings (${changed.join(', ')} differ): run with --no-resume to start it over, or write to another --out`);
}

/** A job's options without the keys named (those a --retry-failed run may change). */
function withoutKeys(value: JsonValue | undefined, keys: readonly string[]): JsonValue | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.includes(key)));
}

/**
 * The folder the lines of `out` name their files from (the working directory of the run that
 * started it), if this data dir recorded one: a resume from another folder (`cd in && ream run .
 * -o ../out.jsonl`) names the same files the same way, and knows them again.
 */
export function outputBase(dataDir: string, out: string): string | undefined {
  const record = outputRecord(dataDir, out);
  if (!existsSync(record)) return undefined;
  const { base } = JSON.parse(readFileSync(record, 'utf8')) as { base?: unknown };
  return typeof base === 'string' ? base : undefined;
}

/**
 * Records the settings now writing `out` (see {@link checkOutputSettings}), the folder its lines
 * name files from (see {@link outputBase}) and the job they come from (see {@link outputJob}).
 */
export function recordOutputSettings(dataDir: string, out: string, settings: JsonObject, base: string, jobId: string): void {
  const record = outputRecord(dataDir, out);
  mkdirSync(dirname(record), { recursive: true });
  writeFileSync(record, JSON.stringify({ settings, base, jobId }));
}

/**
 * The job whose lines `out` holds, if this data dir recorded one: a `--no-resume` run with other
 * settings (another job) replaces those lines, and removes that job with them.
 */
export function outputJob(dataDir: string, out: string): string | undefined {
  const record = outputRecord(dataDir, out);
  if (!existsSync(record)) return undefined;
  const { jobId } = JSON.parse(readFileSync(record, 'utf8')) as { jobId?: unknown };
  return typeof jobId === 'string' ? jobId : undefined;
}
