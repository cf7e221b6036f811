import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { ContentLocksTable } from './documents-schema.ts';

/**
 * A lock a dead holder leaves behind is taken over after this long, in ms. Longer than any
 * step held under it (placing a blob: a rename, or one S3 CopyObject of at most 5 GB).
 */
const LOCK_LEASE_MS = 10 * 60_000;
const FIRST_WAIT_MS = 10;
const LONGEST_WAIT_MS = 250;

/**
 * Locks per content hash in a table (`content_locks`), so every process of a deployment sees
 * them without holding a database connection while it waits or works: a row is the lock,
 * inserted if absent (or taken over when its lease ran out), deleted on release. Waiters poll
 * with a growing pause. Within a process, waiters for one content queue behind each other first.
 */
export function sqlContentLock(kysely: Kysely<unknown>, now: () => number = Date.now): <T>(sha256: string, fn: () => Promise<T>) => Promise<T> {
  const db = kysely.withTables<{ content_locks: ContentLocksTable }>();
  const local = new Map<string, Promise<unknown>>();

  const acquire = async (sha256: string, holder: string): Promise<void> => {
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
      const at = now();
      const taken = await db.insertInto('content_locks')
        .values({ sha256, holder, expires_at: at + LOCK_LEASE_MS })
        .onConflict((oc) => oc.column('sha256').doUpdateSet({ holder, expires_at: at + LOCK_LEASE_MS }).where('content_locks.expires_at', '<', at))
        .executeTakeFirst();
      if (Number(taken.numInsertedOrUpdatedRows ?? 0n) > 0) return;
      await sleep(wait);
    }
  };

  return async <T>(sha256: string, fn: () => Promise<T>): Promise<T> => {
    const before = local.get(sha256) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(async () => {
      const holder = randomUUID();
      await acquire(sha256, holder);
      try {
        return await fn();
      } finally {
        await db.deleteFrom('content_locks').where('sha256', '=', sha256).where('holder', '=', holder).execute();
      }
    });
    local.set(sha256, run);
    try {
      return await run;
    } finally {
      if (local.get(sha256) === run) local.delete(sha256);
    }
  };
}
