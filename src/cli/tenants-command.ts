import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { TenantAccount, TenantAccounts } from '../runtime/ream.ts';
import { databaseUrlOf, requireDataDir, type StoreFlags } from './store-flags.ts';
import { tenantName } from './keys-command.ts';

const DATA_DIR_HELP = 'the data dir of the server the tenants are of';
const DATABASE_HELP = 'distributed: the deployment\'s PostgreSQL (REAM_DATABASE_URL)';

/**
 * The accounts of the data dir (or of the deployment's PostgreSQL). Reading needs it to exist;
 * a grant or quotas may come before the server's first start, and then say they made it (a
 * mistyped folder is seen at once).
 */
async function withAccounts<T>(flags: StoreFlags, use: (accounts: TenantAccounts) => Promise<T>, writes = false): Promise<T> {
  if (!writes) requireDataDir(flags);
  else if (databaseUrlOf(flags) === undefined && !existsSync(flags.dataDir)) process.stderr.write(`ream: made the data dir ${flags.dataDir}: no server has used it yet\n`);
  // Loaded when a tenants command runs, so that the other commands start without the store.
  const { withTenantAccounts } = await import('../runtime/tenant-admin.ts');
  return withTenantAccounts({ dataDir: flags.dataDir, databaseUrl: databaseUrlOf(flags) }, use);
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** A limit, or "none" — kept as the word: commander turns a parser's `null` into `''`, which read as 0. */
function limit(value: string): number | 'none' {
  if (value === 'none') return 'none';
  const n = wholeNumber(value);
  if (n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0, or "none"');
  return n;
}

function line(account: TenantAccount): string {
  const { quotas, usage } = account;
  const quota = (value: number | undefined): string => (value === undefined ? '-' : String(value));
  return [
    account.tenantId, account.balance, `${usage.pagesToday}/${quota(quotas.pagesPerDay)}`, `${usage.unfinishedJobs}/${quota(quotas.concurrentJobs)}`,
    `${usage.storageBytes}/${quota(quotas.storageBytes)}`,
  ].join('\t');
}

/** Adds the store location flags every subcommand takes. */
function located(command: Command): Command {
  return command.option('--data-dir <dir>', DATA_DIR_HELP, '.ream').option('--database-url <url>', DATABASE_HELP);
}

/** Tenants read per query by `ream tenants list`. */
export const LIST_PAGE = 500;

/** `ream tenants list | show | grant | quotas | export`: credits and quotas, straight in a data dir's store. */
export function registerTenantsCommand(program: Command): void {
  const tenants = program.command('tenants').description('credits and quotas per tenant (in --data-dir, or the PostgreSQL of --database-url)');

  located(tenants.command('list').description('tenants with a balance, quotas or a job: tenant, balance, pages today/limit, unfinished jobs/limit, stored bytes/limit (tab-separated)'))
    .action(async (flags: StoreFlags) => {
      // A page at a time, each printed as it comes: no read of every tenant at once.
      await withAccounts(flags, async (accounts) => {
        for (let page = await accounts.listTenants({ limit: LIST_PAGE }); page.length > 0;) {
          process.stdout.write(page.map((account) => `${line(account)}\n`).join(''));
          const last = page.at(-1);
          page = page.length < LIST_PAGE || last === undefined ? [] : await accounts.listTenants({ after: last.tenantId, limit: LIST_PAGE });
        }
      });
    });

  located(tenants.command('show').description('one tenant as JSON: balance, quotas, usage').argument('<tenant>'))
    .action(async (tenantId: string, flags: StoreFlags) => {
      process.stdout.write(`${JSON.stringify(await withAccounts(flags, (accounts) => accounts.tenant(tenantId)), null, 2)}\n`);
    });

  located(tenants.command('grant').description('grant credits to a tenant (negative: take back); audited as cli').argument('<tenant>', 'the tenant', tenantName).argument('<amount>', 'whole credits', wholeNumber))
    .requiredOption('--reason <text>', 'why (kept in the ledger and the audit log)')
    .option('--key <key>', 'idempotency: a repeat of the key grants nothing more')
    .action(async (tenantId: string, amount: number, flags: StoreFlags & { reason: string; key?: string }) => {
      const granted = await withAccounts(flags, (accounts) => accounts.grantCredits({
        tenantId, amount, reason: flags.reason, ...(flags.key === undefined ? {} : { key: flags.key }),
        by: { subject: 'cli', role: 'admin', ip: null, status: 0 },
      }), true);
      process.stdout.write(`${tenantId}\t${granted.balance}\n`);
      if (!granted.applied) process.stderr.write(`key ${flags.key ?? ''} was used already: nothing more granted\n`);
    });

  located(tenants.command('quotas').description('replace a tenant\'s quotas (an absent one, or "none", is no limit); audited as cli').argument('<tenant>', 'the tenant', tenantName))
    .option('--pages-per-day <n>', 'pages of jobs submitted since midnight UTC', limit)
    .option('--concurrent-jobs <n>', 'jobs queued or running at once', limit)
    .option('--storage-bytes <n>', 'bytes of stored documents', limit)
    .action(async (tenantId: string, flags: StoreFlags & { pagesPerDay?: number | 'none'; concurrentJobs?: number | 'none'; storageBytes?: number | 'none' }) => {
      const account = await withAccounts(flags, async (accounts) => {
        // Quotas are replaced: one given as "none", like one not given, is no limit.
        await accounts.setQuotas(tenantId, {
          ...(typeof flags.pagesPerDay === 'number' ? { pagesPerDay: flags.pagesPerDay } : {}),
          ...(typeof flags.concurrentJobs === 'number' ? { concurrentJobs: flags.concurrentJobs } : {}),
          ...(typeof flags.storageBytes === 'number' ? { storageBytes: flags.storageBytes } : {}),
        }, { subject: 'cli', role: 'admin', ip: null, status: 0 });
        return accounts.tenant(tenantId);
      }, true);
      process.stdout.write(`${line(account)}\n`);
    });

  located(tenants.command('export').description('a tenant\'s credit ledger as JSON lines, oldest first (every tenant\'s without one)').argument('[tenant]'))
    .action(async (tenantId: string | undefined, flags: StoreFlags) => {
      await withAccounts(flags, async (accounts) => {
        for await (const entry of accounts.ledger(tenantId === undefined ? {} : { tenantId })) {
          process.stdout.write(`${JSON.stringify({ ...entry, at: new Date(entry.at).toISOString() })}\n`);
        }
      });
    });
}
