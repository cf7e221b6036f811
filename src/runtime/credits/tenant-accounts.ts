import { randomUUID } from 'node:crypto';
import { ReamError } from '../../errors.ts';
import type { AuditEntry, CreditEntry, CreditQuery, Store, TenantQuotas } from '../../store/port.ts';
import { documentIdOf } from '../../store/document-store.ts';
import { refuseChangedRepeat } from '../idempotent-repeat.ts';
import type { CreditKeeper } from './credit-keeper.ts';
import type { CreditPrices } from './prices.ts';

/** A tenant as admins see it: balance, quotas and what the quotas are measured against. */
export interface TenantAccount {
  tenantId: string;
  balance: number;
  quotas: TenantQuotas;
  usage: { pagesToday: number; unfinishedJobs: number; storageBytes: number };
}

/** Who grants: what the audit log records beside the grant. */
export type Granter = Pick<AuditEntry, 'subject' | 'role' | 'ip' | 'status'>;

export interface GrantInput {
  tenantId: string;
  /** Whole credits, > 0 (a negative grant is a debit an admin makes: allowed, ≠ 0). */
  amount: number;
  reason: string;
  /** Makes the grant exactly-once under retries (default: a fresh one, every call grants). */
  key?: string;
  by: Granter;
}

const DAY_MS = 24 * 3600_000;
/** Who a change made by a program through the library is audited as. */
const LIBRARY: Granter = { subject: 'library', role: 'admin', ip: null, status: 0 };
const EXPORT_PAGE = 1000;
/** The longest quota value or grant accepted: beyond it, numbers lose integer precision. */
const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/** Checks quotas from a caller: whole numbers ≥ 0 (0 refuses everything), known keys only. */
export function checkQuotas(value: unknown): TenantQuotas {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw ReamError.nonRetryable('validation_failed', 'quotas must be an object');
  const quotas: TenantQuotas = {};
  for (const [key, limit] of Object.entries(value)) {
    if (key !== 'pagesPerDay' && key !== 'concurrentJobs' && key !== 'storageBytes') {
      throw ReamError.nonRetryable('validation_failed', `unknown quota "${key}" (known: pagesPerDay, concurrentJobs, storageBytes)`);
    }
    if (limit === null) continue;
    if (!Number.isSafeInteger(limit) || (limit as number) < 0) throw ReamError.nonRetryable('validation_failed', `${key} must be a whole number ≥ 0, or null for no limit`);
    quotas[key] = limit as number;
  }
  return quotas;
}

/**
 * The tenant administration behind `GET/POST/PUT /v1/tenants…` and `ream tenants`: accounts,
 * grants (each one written to the audit log as `credits.grant`), quotas and the ledger.
 */
export function tenantAccounts(store: Store, credits: Pick<CreditKeeper, 'prices' | 'checkStorage' | 'checkStorageEarly' | 'checkUnfinishedStorage' | 'storageRoom' | 'withinStorageQuota' | 'withinUploadCreation'>): TenantAccounts {
  async function account(tenantId: string, balance?: number, quotas?: TenantQuotas): Promise<TenantAccount> {
    const now = Date.now();
    const usage = await store.tenantUsage(tenantId, now - (now % DAY_MS));
    return {
      tenantId,
      balance: balance ?? (await store.creditBalance(tenantId)),
      quotas: quotas ?? (await store.getQuotas(tenantId)),
      usage: { pagesToday: usage.pagesSince, unfinishedJobs: usage.unfinishedJobs, storageBytes: usage.storageBytes },
    };
  }
  return {
    prices: credits.prices,
    checkStorage: (tenantId, incomingBytes, unfinishedBytes) => credits.checkStorage(tenantId, incomingBytes, unfinishedBytes),
    checkStorageEarly: (tenantId, incomingBytes) => credits.checkStorageEarly(tenantId, incomingBytes),
    holdsContent: async (tenantId, sha256, size) => (await store.getDocument(documentIdOf(tenantId, sha256)))?.size === size,
    checkUnfinishedStorage: (tenantId, incomingBytes, unfinishedBytes) => credits.checkUnfinishedStorage(tenantId, incomingBytes, unfinishedBytes),
    storageRoom: (tenantId, unfinishedBytes) => credits.storageRoom(tenantId, unfinishedBytes),
    withinStorageQuota: (tenantId, incomingBytes, storeIt) => credits.withinStorageQuota(tenantId, incomingBytes, storeIt),
    withinUploadCreation: (tenantId, create) => credits.withinUploadCreation(tenantId, create),
    tenant: (tenantId) => account(tenantId),
    async listTenants(query) {
      const known = await store.listTenants(query);
      return Promise.all(known.map((t) => account(t.tenantId, t.balance, t.quotas)));
    },
    async grantCredits(input) {
      if (!Number.isSafeInteger(input.amount) || input.amount === 0 || Math.abs(input.amount) > MAX_AMOUNT) {
        throw ReamError.nonRetryable('validation_failed', `amount must be a whole number of credits, not 0, at most ${MAX_AMOUNT} either way`);
      }
      if (input.reason.trim() === '') throw ReamError.nonRetryable('validation_failed', 'a grant needs a reason');
      const key = `grant:${input.tenantId}:${input.key ?? randomUUID()}`;
      const appended = await store.appendCredit({ tenantId: input.tenantId, kind: 'grant', amount: input.amount, key, jobId: null, reason: input.reason, at: Date.now() });
      // A repeat of the key with another amount or reason is another grant, not a repeat.
      if (!appended.applied && input.key !== undefined) {
        const first = appended.entry;
        refuseChangedRepeat(input.key, `grant ${first.id}`, [...(first.amount === input.amount ? [] : ['amount']), ...(first.reason === input.reason ? [] : ['reason'])]);
      }
      if (appended.applied) {
        await store.appendAudit({
          at: appended.entry.at, tenantId: input.tenantId, ...input.by, action: 'credits.grant', target: appended.entry.id,
          details: { amount: input.amount, reason: input.reason, balance: appended.balance },
        });
      }
      return appended;
    },
    async setQuotas(tenantId, quotas, by = LIBRARY) {
      const before = await store.getQuotas(tenantId);
      await store.setQuotas(tenantId, quotas);
      // Filed under the tenant whose limits changed (as a grant is), with both sets of numbers.
      await store.appendAudit({ at: Date.now(), tenantId, ...by, action: 'quotas.set', target: tenantId, details: { quotas: { ...quotas }, before: { ...before } } });
    },
    listCredits: (query) => store.listCredits(query),
    async *ledger(query) {
      let afterId = query.afterId;
      for (;;) {
        const page = await store.listCredits({ ...query, ...(afterId === undefined ? {} : { afterId }), limit: EXPORT_PAGE });
        yield* page;
        if (page.length < EXPORT_PAGE) return;
        afterId = page.at(-1)?.id;
      }
    },
  };
}

export interface TenantAccounts {
  /** The price table jobs are charged by; undefined when credits are off. */
  readonly prices: CreditPrices | undefined;
  /**
   * Refuses bytes about to be stored for the tenant past its storage quota (`quota_exceeded`);
   * `unfinishedBytes`, asked only when the tenant has that quota, adds its unfinished uploads.
   */
  checkStorage(tenantId: string, incomingBytes: number, unfinishedBytes?: () => Promise<number>): Promise<void>;
  /**
   * Before a request's files are read, by their length: refuses (`quota_exceeded`) bytes past the
   * room the storage quota leaves, unless they may be content the tenant holds (no longer than its
   * largest document), which costs nothing; each file is counted exactly once stored.
   */
  checkStorageEarly(tenantId: string, incomingBytes: number): Promise<void>;
  /** Whether the tenant has a document of this content (sha256, hex) and size: storing it again costs no storage. */
  holdsContent(tenantId: string, sha256: string, size: number): Promise<boolean>;
  /**
   * Before an upload of content the tenant holds is created: refuses (`quota_exceeded`) when its
   * bytes and those of the tenant's other unfinished uploads (`unfinishedBytes`), on disk until
   * they end, pass the storage quota; stored documents are not counted.
   */
  checkUnfinishedStorage(tenantId: string, incomingBytes: number, unfinishedBytes: () => Promise<number>): Promise<void>;
  /**
   * The tenant's storage quota (`limit`) and the bytes counted against it (`used`: stored, plus
   * `unfinishedBytes`, asked only when there is a quota); undefined without a storage quota.
   */
  storageRoom(tenantId: string, unfinishedBytes?: () => Promise<number>): Promise<{ limit: number; used: number } | undefined>;
  /**
   * {@link checkStorage}, then `storeIt`, one at a time per tenant across the deployment: two
   * stores that each fit alone cannot both pass the check before the other is counted.
   */
  withinStorageQuota<T>(tenantId: string, incomingBytes: number, storeIt: () => Promise<T>): Promise<T>;
  /** An upload's creation, one at a time per tenant with a storage quota (see CreditKeeper.withinUploadCreation). */
  withinUploadCreation<T>(tenantId: string, create: () => Promise<T>): Promise<T>;
  tenant(tenantId: string): Promise<TenantAccount>;
  /** Tenants with a balance, quotas or a job, by id: at most `limit`, those after the tenant `after`. */
  listTenants(query: { after?: string; limit: number }): Promise<TenantAccount[]>;
  /** Adds (or, negative, removes) credits; audited. A repeat of `key` grants nothing more. */
  grantCredits(input: GrantInput): Promise<{ entry: CreditEntry; applied: boolean; balance: number }>;
  /**
   * Replaces the tenant's quotas; audited (`quotas.set`, under that tenant, with the old and new
   * numbers) as `by` (default: the subject `library`).
   */
  setQuotas(tenantId: string, quotas: TenantQuotas, by?: Granter): Promise<void>;
  /** Ledger entries, oldest first. */
  listCredits(query: CreditQuery): Promise<CreditEntry[]>;
  /** Every matching entry, oldest first, read a page at a time (an export: never the whole ledger in memory). */
  ledger(query: Omit<CreditQuery, 'limit'>): AsyncGenerator<CreditEntry>;
}
