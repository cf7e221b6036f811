import { Kysely } from 'kysely';
import pg from 'pg';
import { ReamError } from '../errors.ts';
import { redactUrl } from '../url.ts';
import { SchemaScopedPostgresDialect } from './schema-scoped-dialect.ts';

/**
 * A PostgreSQL database shared by the distributed store, search and (where used) queue: one pool,
 * one Kysely instance, one schema. Adapters built on it do not close it: whoever opened it does.
 */
export interface PostgresDatabase {
  /** The URL without its password, for messages and logs. */
  readonly url: string;
  /** Where ream's tables live: the `schema` option, or the connection's default schema. */
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly kysely: Kysely<unknown>;
  /** Ends the pool; connections held elsewhere (a queue's listener) must be released first. */
  close(): Promise<void>;
}

export interface PostgresDatabaseOptions {
  /**
   * Schema for ream's tables, created if missing and put first on every connection's
   * `search_path`. Lower-case letters, digits and `_`. Default: the server's `search_path`
   * (usually `public`).
   */
  schema?: string;
  /** Most connections in the pool. Default 10; each costs a PostgreSQL backend process. */
  max?: number;
  /** How long opening a connection may take before it counts as unavailable, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /**
   * Longest a statement may run, in ms; default unbounded (migrations may wait on a lock or build
   * an index for long). The server aborts a statement past it (`statement_timeout`) and rolls its
   * writes back, so a request answered 503 leaves nothing half done; one that gets no answer at all
   * (a partition, a stuck host) fails in the client a few seconds later (`Query read timeout`).
   */
  queryTimeoutMs?: number;
}

/** The `queryTimeoutMs` of a running process: migrated, no statement should take longer. */
export const POSTGRES_QUERY_TIMEOUT_MS = 30_000;
/** How much longer the client waits for an answer than the server lets a statement run. */
const CLIENT_TIMEOUT_MARGIN_MS = 5_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;

/**
 * Opens a pool and checks that the server answers (a wrong URL fails here, with `unavailable`,
 * not at the first query). `bigint` columns (epoch ms, counters) come back as numbers while they
 * are safe integers; the rare larger value stays a string, which `toNumber` reads alike.
 */
export async function openPostgresDatabase(url: string, options: PostgresDatabaseOptions = {}): Promise<PostgresDatabase> {
  const shown = redactUrl(url);
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw ReamError.nonRetryable('validation_failed', `PostgreSQL schema must match ${String(SCHEMA_NAME)}, not ${JSON.stringify(options.schema)}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: { getTypeParser: typeParser },
    ...(options.queryTimeoutMs === undefined ? {} : { statement_timeout: options.queryTimeoutMs, query_timeout: options.queryTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS }),
    // Set at connection start-up, so every pooled connection (and a transaction's) sees it.
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle connection that the server drops emits `error` on the pool; unhandled, that would
  // end the process. The pool discards the connection and the next query opens a new one.
  pool.on('error', () => undefined);
  // A connection checked out (a transaction between statements) emits `error` on its client, not
  // on the pool: a terminated backend or a reset ended every worker process. Its query rejects
  // anyway, and the pool discards it when released.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  let schema: string;
  try {
    schema = await prepareSchema(pool, options.schema);
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof ReamError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw ReamError.retryable('unavailable', `PostgreSQL at ${shown} is unavailable: ${reason}`, { cause: error });
  }
  const kysely = new Kysely<unknown>({ dialect: new SchemaScopedPostgresDialect({ pool }, schema) });
  // Kysely ends the pool only if it ever used it; a database used through `pool` alone is ended here.
  const end = async (): Promise<void> => {
    await kysely.destroy();
    if (!pool.ending) await pool.end();
  };
  let closing: Promise<void> | undefined;
  return { url: shown, schema, pool, kysely, close: () => (closing ??= end()) };
}

/** Creates the schema when one is named (race-free between processes); returns the schema in use. */
async function prepareSchema(pool: pg.Pool, schema: string | undefined): Promise<string> {
  const client = await pool.connect();
  try {
    if (schema !== undefined) {
      // `if not exists` can still fail with a unique violation when two processes create the
      // same schema at once; the loser finds it made, which is all it wanted.
      await client.query(`create schema if not exists "${schema}"`).catch(async (error: unknown) => {
        const exists = await client.query('select 1 from pg_namespace where nspname = $1', [schema]);
        if (exists.rowCount === 0) throw error;
      });
    }
    const result = await client.query<{ schema: string | null }>('select current_schema() as schema');
    const current = result.rows[0]?.schema ?? null;
    if (current === null) {
      throw ReamError.nonRetryable('validation_failed', 'PostgreSQL has no schema to use: name one, or fix the search_path');
    }
    return current;
  } finally {
    client.release();
  }
}

/** pg's own parsers, except `bigint` (text format) as a number while it is a safe integer. */
function typeParser(oid: number, format: 'text' | 'binary' = 'text'): (value: string) => unknown {
  if (oid === INT8_OID && format === 'text') {
    return (value: string) => {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    };
  }
  // pg-types declares its parsers as `any`.
  return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
}
