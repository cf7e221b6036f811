import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { issueApiKey } from '../server/auth/api-keys.ts';
import type { ApiKeyRecord, Store } from '../store/port.ts';
import { openSqliteDatabase } from '../sql/sqlite-database.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { openPostgresDatabase } from '../sql/postgres-database.ts';
import { PostgresStore } from '../store/postgres-store.ts';

const DATA_DIR_HELP = 'the data dir of the server the keys are for';
const DATABASE_HELP = 'distributed: the deployment\'s PostgreSQL (REAM_DATABASE_URL); keys are then kept there';

interface StoreFlags {
  dataDir: string;
  databaseUrl?: string;
}

/**
 * Opens only the store (not the engine, so no data-dir lock). Embedded: the data dir's SQLite
 * (WAL mode lets this run beside a serving `ream serve`). Distributed: the deployment's
 * PostgreSQL. Servers look keys up on every request, so a new or revoked key takes effect at once.
 */
async function withStore<T>(flags: StoreFlags, use: (store: Store) => Promise<T>): Promise<T> {
  const databaseUrl = flags.databaseUrl ?? process.env.REAM_DATABASE_URL;
  if (databaseUrl !== undefined && databaseUrl !== '') {
    const database = await openPostgresDatabase(databaseUrl);
    try {
      return await use(await PostgresStore.open(database));
    } finally {
      await database.close();
    }
  }
  const dataDir = flags.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const database = openSqliteDatabase(join(dataDir, 'ream.db'));
  try {
    return await use(await SqliteStore.open(database));
  } finally {
    await database.close();
  }
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function line(key: ApiKeyRecord): string {
  return [key.id, key.tenantId, key.role, iso(key.createdAt), key.revokedAt === null ? 'active' : `revoked ${iso(key.revokedAt)}`, key.name].join('\t');
}

/** `ream keys create | list | revoke`: API keys of the HTTP service, straight in a data dir's store. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys of the HTTP service (in --data-dir, or the PostgreSQL of --database-url)');

  keys
    .command('create')
    .description('create an API key; prints it once (only its hash is stored)')
    .requiredOption('--tenant <tenant>', 'the tenant the key acts as')
    .option('--name <name>', 'a label for the key', '')
    .option('--admin', 'an admin key: sees every tenant, may read /metrics')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.ream')
    .option('--database-url <url>', DATABASE_HELP)
    .action(async (flags: StoreFlags & { tenant: string; name: string; admin?: boolean }) => {
      const { record, token } = await withStore(flags, (store) =>
        issueApiKey(store, { tenantId: flags.tenant, name: flags.name, role: flags.admin === true ? 'admin' : 'user' }),
      );
      process.stdout.write(`${token}\n`);
      process.stderr.write(`created key ${record.id} (tenant ${record.tenantId}, ${record.role}); keep it safe, it is not shown again\n`);
    });

  keys
    .command('list')
    .description('list API keys (id, tenant, role, created, state, name), tab-separated')
    .option('--tenant <tenant>', 'only this tenant\'s keys')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.ream')
    .option('--database-url <url>', DATABASE_HELP)
    .action(async (flags: StoreFlags & { tenant?: string }) => {
      const list = await withStore(flags, (store) => store.listApiKeys(flags.tenant));
      for (const key of list) process.stdout.write(`${line(key)}\n`);
    });

  keys
    .command('revoke')
    .description('revoke an API key by id (takes effect at once)')
    .argument('<id>', 'the key id (the part after "ream_")')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.ream')
    .option('--database-url <url>', DATABASE_HELP)
    .action(async (id: string, flags: StoreFlags) => {
      const key = await withStore(flags, (store) => store.revokeApiKey(id, Date.now()));
      process.stdout.write(`${line(key)}\n`);
    });
}
