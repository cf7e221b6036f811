import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { repoRoot } from './env.ts';
import { startS3Server, type TestS3Server } from './s3-server.ts';
import { STARTUP_TIMEOUT_MS, startReamProcess, startServeProcess, type ReamProcess, type ServeProcess } from './serve-process.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from './services.ts';
import { migratedTemplate } from './template-database.ts';

/** Pipelines with a per-page delay (test/fixtures/slow-pipeline.ts), loaded by every process. */
export const SLOW_PIPELINES = join(repoRoot, 'test/fixtures/slow-pipeline.ts');
/** The slow pipeline, and small chunks (below `ream serve`'s default minimum of 10) to spread short files over workers. */
const SERVER_ARGS = ['--pipelines', SLOW_PIPELINES, '--min-chunk-pages', '1'];

/** `stop()` sends SIGTERM: the worker drains, then exits. */
export type WorkerProcess = ReamProcess;

export interface Cluster {
  env: Record<string, string>;
  server: ServeProcess;
  workers: WorkerProcess[];
  s3: TestS3Server;
  databaseUrl: string;
  startWorker(args?: readonly string[]): Promise<WorkerProcess>;
  /** Another `ream serve` instance of the same deployment (no work), stopped with the cluster. */
  startServer(args?: readonly string[]): Promise<ServeProcess>;
  /** Everything every process wrote (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  workers: number;
  /** Extra args for each worker (`--concurrency`, `--lease`, …). */
  workerArgs?: readonly string[];
  serverArgs?: readonly string[];
  /** Default: the machine's test Redis. */
  redisUrl?: string;
  /** Run the processes on the CLI's bundle (dist/bundle/), as the published binary does, not from source. */
  fromBundle?: boolean;
}

export interface FreshDatabaseOptions {
  /** Every port's tables made already (copied from a migrated template), as a running ream leaves them. */
  migrated?: boolean;
  /** More options for its `create database` (e.g. another collation). */
  withOptions?: string;
}

/** A database of its own on the test PostgreSQL server, empty unless `migrated`, dropped (with force) by `drop`. */
export async function freshDatabase(options: FreshDatabaseOptions = {}): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName('ream_cluster');
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const template = options.migrated === true ? `template "${await migratedTemplate(admin)}"` : '';
    await admin.query(`create database "${name}" ${template} ${options.withOptions ?? ''}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Deletes every key under `prefix` (never the whole database: other tests share it). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Runs `ream worker …` from source; resolves once it says it is working. */
export async function startWorkerProcess(args: readonly string[], env: Record<string, string>, timeoutMs = STARTUP_TIMEOUT_MS): Promise<WorkerProcess> {
  return (await startReamProcess(['worker', ...args], env, /: working/, timeoutMs)).process;
}

/**
 * One `ream serve` (taking no work itself) and `workers` × `ream worker`, all from source (or the bundle), on the
 * test Redis (a prefix of their own), a fresh PostgreSQL database and an s3rver bucket.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const prefix = uniqueName('ream_cluster');
  const database = await freshDatabase({ migrated: true });
  const s3 = await startS3Server();
  const dir = await mkdtemp(join(tmpdir(), 'ream-cluster-'));
  const env: Record<string, string> = {
    REAM_REDIS_URL: redisUrl,
    REAM_DATABASE_URL: database.url,
    REAM_S3_BUCKET: s3.bucket,
    REAM_S3_ENDPOINT: s3.endpoint,
    REAM_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    REAM_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    REAM_PREFIX: prefix,
    ...(options.fromBundle ? { REAM_FROM_SOURCE: '' } : {}),
  };
  const workers: WorkerProcess[] = [];
  const servers: ServeProcess[] = [];
  let server: ServeProcess | undefined;
  let workerCount = 0;
  const startWorker = async (args: readonly string[] = options.workerArgs ?? []): Promise<WorkerProcess> => {
    workerCount++;
    const worker = await startWorkerProcess(['--pipelines', SLOW_PIPELINES, '--data-dir', join(dir, `worker-${workerCount}`), ...args], env);
    workers.push(worker);
    return worker;
  };
  const stop = async (): Promise<void> => {
    await Promise.allSettled(workers.map((w) => w.stop(15_000)));
    await Promise.allSettled([...(server ? [server] : []), ...servers].map((s) => s.stop()));
    await s3.close().catch(() => undefined);
    await database.drop().catch(() => undefined);
    await deleteRedisPrefix(redisUrl, prefix).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    server = await startServeProcess(['--no-work', ...SERVER_ARGS, '--data-dir', join(dir, 'server'), ...(options.serverArgs ?? [])], env);
    for (let i = 0; i < options.workers; i++) await startWorker();
  } catch (error) {
    await stop();
    throw error;
  }
  const started = server;
  return {
    env,
    server: started,
    workers,
    s3,
    databaseUrl: database.url,
    startWorker,
    async startServer(args: readonly string[] = []) {
      const instance = await startServeProcess(['--no-work', ...SERVER_ARGS, '--data-dir', join(dir, `server-${servers.length + 2}`), ...args], env);
      servers.push(instance);
      return instance;
    },
    output: () => [`--- server\n${started.output()}`, ...workers.map((w, i) => `--- worker ${i + 1}\n${w.output()}`)].join('\n'),
    stop,
  };
}
