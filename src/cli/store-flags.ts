// The flags of the commands that work straight in a server's store (`ream keys`, `ream tenants`):
// a data dir, or a distributed deployment's PostgreSQL.
import { existsSync } from 'node:fs';
import { ReamError } from '../errors.ts';

export interface StoreFlags {
  dataDir: string;
  databaseUrl?: string;
}

/** `--database-url`, else REAM_DATABASE_URL. */
export function databaseUrlOf(flags: StoreFlags): string | undefined {
  return flags.databaseUrl ?? process.env.REAM_DATABASE_URL;
}

/**
 * Refuses a data dir that is not there: working in a mistyped folder would make an empty store,
 * and a grant or a listing would go to (or come from) a store no server uses.
 */
export function requireDataDir(flags: StoreFlags): void {
  if (databaseUrlOf(flags) === undefined && !existsSync(flags.dataDir)) {
    throw ReamError.nonRetryable('not_found', `no data dir ${flags.dataDir} (give the server's --data-dir, or --database-url)`);
  }
}
