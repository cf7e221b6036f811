// Client → server messages of `/v1/ws`, in ream's own shapes (`jobId`, camelCase) and in the
// shapes of the document service ream replaces (`job_ids` lists, `job_id`, `request_id`,
// `channels`), so that its clients keep working. Answers go back in the dialect asked in.
import { ReamError } from '../../errors.ts';
import { parseJsonObject } from '../../json.ts';

export type Dialect = 'ream' | 'seed';
/** `notifications`: the end of every job of the caller's tenant, live. */
export type Channel = 'notifications';
const CHANNELS: ReadonlySet<string> = new Set<Channel>(['notifications']);

interface Common {
  dialect: Dialect;
  requestId?: string;
}

export type ClientMessage =
  | (Common & { type: 'subscribe'; jobIds: string[]; afterSeq: number; channels: Channel[] })
  | (Common & { type: 'unsubscribe'; jobIds: string[]; channels: Channel[] })
  | (Common & { type: 'get_job_status'; jobId: string })
  | (Common & { type: 'cancel_job'; jobId: string })
  | (Common & { type: 'cancel_document'; jobId: string; documentId: string });

const MESSAGE_TYPES = new Set(['subscribe', 'unsubscribe', 'get_job_status', 'cancel_job', 'cancel_document']);
/** Job ids one message may name. */
const MAX_JOB_IDS = 100;

export function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

/** The request id of a message (`requestId` or `request_id`), if usable, even when the rest is invalid. */
export function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { requestId, request_id: snake } = value as { requestId?: unknown; request_id?: unknown };
  const id = requestId ?? snake;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function jobIdList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.some((id) => typeof id !== 'string' || id === '')) throw invalid(`"${key}" must be a list of job id strings`);
  if (value.length > MAX_JOB_IDS) throw invalid(`"${key}" may name at most ${MAX_JOB_IDS} jobs`);
  return value as string[];
}

function channelList(value: unknown): Channel[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || !CHANNELS.has(name))) {
    throw invalid(`"channels" must be a list of channel names (${[...CHANNELS].join(', ')})`);
  }
  return value as Channel[];
}

/** The dialect of a (parsed) message: the document service's when it uses any of its snake_case keys. */
export function dialectOf(value: unknown): Dialect {
  if (typeof value !== 'object' || value === null) return 'ream';
  return 'job_ids' in value || 'job_id' in value || 'document_id' in value || 'request_id' in value ? 'seed' : 'ream';
}

/** The jobs a message names: `jobId`, `job_id` or `job_ids`. */
function jobsOf(value: Record<string, unknown>): string[] {
  if (value.job_ids !== undefined) return jobIdList(value.job_ids, 'job_ids');
  for (const key of ['jobId', 'job_id'] as const) {
    const id = value[key];
    if (id === undefined) continue;
    if (typeof id !== 'string' || id === '') throw invalid(`"${key}" must be a job id string`);
    return [id];
  }
  return [];
}

/** The document a `cancel_document` names: `documentId` (or `document_id`). */
function documentOf(value: Record<string, unknown>): string {
  const id = value.documentId ?? value.document_id;
  if (typeof id !== 'string' || id === '') throw invalid('"cancel_document" needs a "documentId" (or "document_id") string');
  return id;
}

export function parseMessage(raw: string): ClientMessage {
  const value = parseJsonObject(raw, 'a message');
  const { type, afterSeq } = value;
  if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) {
    throw invalid(`unknown message type ${JSON.stringify(type)} (expected ${[...MESSAGE_TYPES].join(', ')})`);
  }
  const jobIds = jobsOf(value);
  const requestId = requestIdOf(value);
  const common: Common = { dialect: dialectOf(value), ...(requestId === undefined ? {} : { requestId }) };
  if (type === 'subscribe' || type === 'unsubscribe') {
    const channels = channelList(value.channels);
    if (jobIds.length === 0 && channels.length === 0) throw invalid(`"${type}" needs a "jobId", "job_ids" or "channels"`);
    if (type === 'unsubscribe') return { ...common, type, jobIds, channels };
    if (afterSeq !== undefined && (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0)) {
      throw invalid('"afterSeq" must be a non-negative integer');
    }
    return { ...common, type, jobIds, channels, afterSeq: typeof afterSeq === 'number' ? afterSeq : 0 };
  }
  const [jobId] = jobIds;
  if (jobId === undefined || jobIds.length !== 1) throw invalid(`"${type}" needs one "jobId" (or "job_id")`);
  if (type === 'cancel_document') return { ...common, type, jobId, documentId: documentOf(value) };
  return { ...common, type: type as 'get_job_status' | 'cancel_job', jobId };
}
