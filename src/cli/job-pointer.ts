import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JsonObject } from '../json.ts';
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
 * cancels it and starts a new one, which the next runs then resume.
 */
export async function currentJob(ream: Ream, dataDir: string, identity: CommandIdentity, fresh: boolean): Promise<JobRecord> {
  const pointer = join(dataDir, 'runs', `${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}.json`);
  const previousId = existsSync(pointer) ? (JSON.parse(readFileSync(pointer, 'utf8')) as { jobId?: string }).jobId : undefined;
  const previous = previousId ? await ream.getJob(previousId) : undefined;
  if (previous && !fresh && previous.status !== 'cancelled') return previous;
  if (previous && fresh) await ream.cancel(previous.id); // its queued work must not run on
  const job = await ream.createJob({ pipeline: identity.pipeline, options: identity.options });
  mkdirSync(dirname(pointer), { recursive: true });
  writeFileSync(pointer, JSON.stringify({ jobId: job.id }));
  return job;
}
