import { InvalidArgumentError, type Command } from 'commander';
import type { ApiKeys } from '../runtime/api-keys.ts';
import type { ApiKeyRecord } from '../store/port.ts';
import { databaseUrlOf, requireDataDir, type StoreFlags } from './store-flags.ts';

const DATA_DIR_HELP = 'the data dir of the server the keys are for';
const DATABASE_HELP = 'distributed: the deployment\'s PostgreSQL (REAM_DATABASE_URL); keys are then kept there';


/**
 * The keys of `--database-url` (or REAM_DATABASE_URL), else of `--data-dir`. `existing`: the data
 * dir must be there already (listing or revoking in a mistyped folder would make an empty one and
 * answer "no keys"); creating a key may come before the server's first start.
 */
async function withKeys<T>(flags: StoreFlags, use: (keys: ApiKeys) => Promise<T>, existing = true): Promise<T> {
  const databaseUrl = databaseUrlOf(flags);
  if (existing) requireDataDir(flags);
  // Loaded when a keys command runs, so that the other commands start without the store.
  const { withApiKeys } = await import('../runtime/api-keys.ts');
  return withApiKeys({ dataDir: flags.dataDir, databaseUrl }, use);
}

/**
 * A tenant a key may act as: not empty, no space at either end (" acme" would be another tenant
 * than "acme"), and not `*`, which an admin's `?tenant=*` reads as every tenant.
 */
export function tenantName(value: string): string {
  if (value === '' || value.trim() !== value || value === '*') {
    throw new InvalidArgumentError('a tenant is a non-empty name without spaces at either end, and not "*"');
  }
  return value;
}

/** Keys read per query by `ream keys list`. */
export const LIST_PAGE = 500;

function tenantOf(flags: { tenant?: string }): { tenantId?: string } {
  return flags.tenant === undefined ? {} : { tenantId: flags.tenant };
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
    .requiredOption('--tenant <tenant>', 'the tenant the key acts as', tenantName)
    .option('--name <name>', 'a label for the key', '')
    .option('--admin', 'an admin key: sees every tenant, may read /metrics')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.ream')
    .option('--database-url <url>', DATABASE_HELP)
    .action(async (flags: StoreFlags & { tenant: string; name: string; admin?: boolean }) => {
      const { record, token } = await withKeys(flags, (keys) =>
        keys.create({ tenantId: flags.tenant, name: flags.name, role: flags.admin === true ? 'admin' : 'user' }), false);
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
      // A page at a time, each printed as it comes: no read of every key at once.
      await withKeys(flags, async (keys) => {
        for (let page = await keys.list({ ...tenantOf(flags), limit: LIST_PAGE }); page.length > 0;) {
          process.stdout.write(page.map((key) => `${line(key)}\n`).join(''));
          const last = page.at(-1);
          page = page.length < LIST_PAGE || last === undefined ? [] : await keys.list({ ...tenantOf(flags), after: last, limit: LIST_PAGE });
        }
      });
    });

  keys
    .command('revoke')
    .description('revoke an API key by id (takes effect at once)')
    .argument('<id>', 'the key id (the part after "ream_")')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.ream')
    .option('--database-url <url>', DATABASE_HELP)
    .action(async (id: string, flags: StoreFlags) => {
      const key = await withKeys(flags, (keys) => keys.revoke(id));
      process.stdout.write(`${line(key)}\n`);
    });
}
