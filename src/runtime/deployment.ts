import { ReamError } from '../errors.ts';
import { redactUrl } from '../url.ts';

/** Where the S3-compatible bucket is and how to reach it (AWS S3, MinIO, R2, …). */
export interface S3Settings {
  bucket: string;
  /** e.g. `http://127.0.0.1:9000` for MinIO; omitted for AWS. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO and most self-hosted stores need. */
  forcePathStyle?: boolean;
  /** Omitted: the AWS SDK's default chain (env vars, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Distributed mode: every `ream serve` and `ream worker` process pointed at the same three
 * services shares one queue (BullMQ on Redis), one database (PostgreSQL: records, events,
 * search, upload records, worker heartbeats) and one bucket (blobs and tus uploads).
 */
export interface DistributedSettings {
  redisUrl: string;
  databaseUrl: string;
  s3: S3Settings;
  /** Prefix of every Redis key and channel, so several deployments can share a Redis. Default `ream`. */
  prefix?: string;
  /**
   * Longest a PostgreSQL statement of a request or task may run, in ms (migrations are not
   * bounded): past it PostgreSQL aborts it and rolls it back, and the request answers 503
   * `unavailable`. Default 30,000.
   */
  queryTimeoutMs?: number;
}

/** The environment variables of distributed mode (flags of the same names override them). */
export const DEPLOYMENT_ENV = {
  redisUrl: 'REAM_REDIS_URL',
  databaseUrl: 'REAM_DATABASE_URL',
  bucket: 'REAM_S3_BUCKET',
  endpoint: 'REAM_S3_ENDPOINT',
  region: 'REAM_S3_REGION',
  forcePathStyle: 'REAM_S3_FORCE_PATH_STYLE',
  accessKeyId: 'REAM_S3_ACCESS_KEY_ID',
  secretAccessKey: 'REAM_S3_SECRET_ACCESS_KEY',
  prefix: 'REAM_PREFIX',
  statementTimeoutMs: 'REAM_PG_STATEMENT_TIMEOUT_MS',
} as const;

/** PostgreSQL's `statement_timeout` is an int of ms: the largest value it takes (24.8 days). */
const MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647;

export type DeploymentInput = Partial<Record<keyof typeof DEPLOYMENT_ENV, string | undefined>>;

/** Flags given win over the environment; empty strings count as unset. */
export function deploymentInput(flags: DeploymentInput, env: NodeJS.ProcessEnv = process.env): DeploymentInput {
  const input: DeploymentInput = {};
  for (const [key, name] of Object.entries(DEPLOYMENT_ENV) as [keyof typeof DEPLOYMENT_ENV, string][]) {
    const value = flags[key] ?? env[name];
    if (value !== undefined && value !== '') input[key] = value;
  }
  return input;
}

export function checkUrl(value: string, protocols: readonly string[], what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ReamError.nonRetryable('validation_failed', `${what} is not a URL: ${redactUrl(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw ReamError.nonRetryable('validation_failed', `${what} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, not ${url.protocol}//`);
  }
  return value;
}

/**
 * `undefined` when nothing of distributed mode is set (the embedded default); the settings when
 * Redis, PostgreSQL and a bucket are all named; `validation_failed` saying what is missing when
 * only some are — a half-configured cluster must not quietly run embedded.
 */
export function parseDeployment(input: DeploymentInput): DistributedSettings | undefined {
  const required = { redisUrl: input.redisUrl, databaseUrl: input.databaseUrl, bucket: input.bucket };
  const given = Object.values(input).some((v) => v !== undefined);
  if (!given) return undefined;
  const missing = (Object.keys(required) as (keyof typeof required)[]).filter((k) => required[k] === undefined);
  if (missing.length > 0) {
    throw ReamError.nonRetryable(
      'validation_failed',
      `distributed mode needs Redis, PostgreSQL and an S3 bucket; missing ${missing.map((k) => `--${flagName(k)} (${DEPLOYMENT_ENV[k]})`).join(', ')}`,
    );
  }
  if ((input.accessKeyId === undefined) !== (input.secretAccessKey === undefined)) {
    throw ReamError.nonRetryable('validation_failed', `${DEPLOYMENT_ENV.accessKeyId} and ${DEPLOYMENT_ENV.secretAccessKey} go together`);
  }
  const s3: S3Settings = { bucket: required.bucket ?? '' };
  if (input.endpoint !== undefined) s3.endpoint = checkUrl(input.endpoint, ['http:', 'https:'], '--s3-endpoint');
  if (input.region !== undefined) s3.region = input.region;
  // Self-hosted stores (MinIO, …) need path-style addressing; AWS works either way.
  s3.forcePathStyle = input.forcePathStyle === undefined ? input.endpoint !== undefined : parseBoolean(input.forcePathStyle, DEPLOYMENT_ENV.forcePathStyle);
  if (input.accessKeyId !== undefined && input.secretAccessKey !== undefined) {
    s3.credentials = { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey };
  }
  const prefix = input.prefix ?? 'ream';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw ReamError.nonRetryable('validation_failed', `${DEPLOYMENT_ENV.prefix} may hold letters, digits, '_', '.', '-' only`);
  return {
    redisUrl: checkUrl(required.redisUrl ?? '', ['redis:', 'rediss:'], '--redis-url'),
    databaseUrl: checkUrl(required.databaseUrl ?? '', ['postgres:', 'postgresql:'], '--database-url'),
    s3,
    prefix,
    ...(input.statementTimeoutMs === undefined ? {} : { queryTimeoutMs: parseStatementTimeout(input.statementTimeoutMs) }),
  };
}

/** A whole number of ms from 1 to PostgreSQL's largest `statement_timeout`. */
function parseStatementTimeout(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_STATEMENT_TIMEOUT_MS) {
    throw ReamError.nonRetryable('validation_failed', `--pg-statement-timeout (${DEPLOYMENT_ENV.statementTimeoutMs}) must be a whole number of ms from 1 to ${MAX_STATEMENT_TIMEOUT_MS}, not "${value}"`);
  }
  return ms;
}

function parseBoolean(value: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw ReamError.nonRetryable('validation_failed', `${name} must be true or false, not "${value}"`);
}

function flagName(key: 'redisUrl' | 'databaseUrl' | 'bucket'): string {
  return { redisUrl: 'redis-url', databaseUrl: 'database-url', bucket: 's3-bucket' }[key];
}
