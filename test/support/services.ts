import { connect } from 'node:net';

/**
 * The services the distributed adapters need. Tests use the machine's PostgreSQL and Redis
 * (override with REAM_TEST_DATABASE_URL / REAM_TEST_REDIS_URL); when one does not answer, its
 * tests skip with a clear message — or fail under CI=true (see `requireOrSkip`).
 */
export const TEST_REDIS_URL = process.env.REAM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.REAM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * True when something accepts a TCP connection at the URL's host and port, tried `tries` times
 * with `timeoutMs` each. A loaded machine (the suite runs several files at a time on two cores)
 * can hold a test process's event loop past a short timeout, which then fires before the
 * connection is seen: once, under CI, a running PostgreSQL was reported missing that way.
 */
export async function answers(url: string, defaultPort: number, timeoutMs = 3_000, tries = 2): Promise<boolean> {
  for (let attempt = 0; attempt < tries; attempt++) if (await answersOnce(url, defaultPort, timeoutMs)) return true;
  return false;
}

function answersOnce(url: string, defaultPort: number, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: port === '' ? defaultPort : Number(port) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `undefined` when Redis answers; otherwise why its tests cannot run (for `unavailable`). */
export async function redisUnavailable(): Promise<string | undefined> {
  return (await answers(TEST_REDIS_URL, 6379)) ? undefined : `Redis at ${TEST_REDIS_URL}`;
}

/** `undefined` when PostgreSQL answers; otherwise why its tests cannot run. */
export async function postgresUnavailable(): Promise<string | undefined> {
  return (await answers(TEST_DATABASE_URL, 5432)) ? undefined : `PostgreSQL at ${TEST_DATABASE_URL}`;
}

/** A short random suffix for names that must not collide between tests (schemas, key prefixes). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
