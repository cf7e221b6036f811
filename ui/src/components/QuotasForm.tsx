import type { ReamClient, TenantAccountView } from '@client';
import { useState } from 'preact/hooks';
import { messageOf } from '../format.ts';
import { ErrorText } from './common.tsx';

const MIB = 1024 * 1024;

/** A count quota's value: '' is no limit (null); otherwise a whole number ≥ 0, or the reason it is not. */
function quota(text: string, what: string): number | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || !Number.isInteger(value)) return `${what} must be a whole number of 0 or more, or empty for no limit`;
  return value;
}

/** The storage quota in bytes from MiB, which may have decimals ('' is no limit); or the reason it is not one. */
function storageQuota(text: string): number | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0) return 'Stored MiB must be a number of 0 or more, or empty for no limit';
  return Math.round(value * MIB);
}

const countText = (value: number | undefined): string => (value === undefined ? '' : String(value));
/** Bytes as MiB, 4 significant digits: 300,000 bytes is 0.2861, 100 bytes 0.00009537; never 0 for a quota that is not. */
const mibText = (bytes: number | undefined): string => (bytes === undefined ? '' : String(Number((bytes / MIB).toPrecision(4))));

/**
 * An admin sets one tenant's quotas (pages per day, unfinished jobs, stored MiB); an empty field
 * is no limit. The form replaces all three, as `PUT /v1/tenants/:tenant/quotas` does; picking a
 * known tenant fills in what it has now.
 */
export function QuotasForm({ client, accounts, onSet }: { client: ReamClient; accounts: readonly TenantAccountView[]; onSet: () => void }) {
  const [tenant, setTenant] = useState('');
  const [pages, setPages] = useState('');
  const [jobs, setJobs] = useState('');
  const [storage, setStorage] = useState('');
  // The storage quota as the tenant has it, and as the field showed it: a field left as shown
  // sends the bytes back exactly (MiB shown with 3 decimals would round them).
  const [storageShown, setStorageShown] = useState<{ text: string; bytes: number } | undefined>();
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const pick = (id: string): void => {
    setTenant(id);
    const known = accounts.find((account) => account.tenantId === id.trim());
    if (!known) return;
    setPages(countText(known.quotas.pagesPerDay));
    setJobs(countText(known.quotas.concurrentJobs));
    const bytes = known.quotas.storageBytes;
    setStorage(mibText(bytes));
    setStorageShown(bytes === undefined ? undefined : { text: mibText(bytes), bytes });
  };

  const save = async (): Promise<void> => {
    setError('');
    setMessage('');
    const storageValue = storageShown && storage.trim() === storageShown.text ? storageShown.bytes : storageQuota(storage);
    const values = [quota(pages, 'Pages per day'), quota(jobs, 'Unfinished jobs'), storageValue];
    const refused = values.find((value): value is string => typeof value === 'string');
    if (refused !== undefined) {
      setError(`Quotas not set: ${refused}.`);
      return;
    }
    const [pagesPerDay, concurrentJobs, storageBytes] = values as (number | null)[];
    try {
      await client.setQuotas(tenant.trim(), { pagesPerDay: pagesPerDay ?? null, concurrentJobs: concurrentJobs ?? null, storageBytes: storageBytes ?? null });
      // What the field shows is now what was saved: left as it is, the next save sends it back exactly.
      setStorage(mibText(storageBytes ?? undefined));
      setStorageShown(storageBytes === null || storageBytes === undefined ? undefined : { text: mibText(storageBytes), bytes: storageBytes });
      setMessage(`Quotas of ${tenant.trim()} set.`);
      onSet();
    } catch (failure) {
      setError(`Quotas not set: ${messageOf(failure)}`);
    }
  };

  return (
    <form
      class="grant"
      aria-label="Set quotas"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <label for="quota-tenant">Quotas of tenant</label>
      <input id="quota-tenant" list="quota-tenants" required maxLength={200} value={tenant} onInput={(event) => pick(event.currentTarget.value)} />
      <datalist id="quota-tenants">
        {accounts.map((account) => (
          <option key={account.tenantId} value={account.tenantId} />
        ))}
      </datalist>
      <label for="quota-pages">Pages per day</label>
      <input id="quota-pages" type="number" min={0} step={1} placeholder="no limit" value={pages} onInput={(event) => setPages(event.currentTarget.value)} />
      <label for="quota-jobs">Unfinished jobs</label>
      <input id="quota-jobs" type="number" min={0} step={1} placeholder="no limit" value={jobs} onInput={(event) => setJobs(event.currentTarget.value)} />
      <label for="quota-storage">Stored MiB</label>
      <input id="quota-storage" type="number" min={0} step="any" placeholder="no limit" value={storage} onInput={(event) => setStorage(event.currentTarget.value)} />
      <button type="submit">Set quotas</button>
      <p id="quota-result" aria-live="polite">
        {message}
      </p>
      <ErrorText message={error} id="quota-error" />
    </form>
  );
}
