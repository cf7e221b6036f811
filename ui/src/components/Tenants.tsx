import type { ReamClient, TenantAccountView, UsageView } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { bytes, isForbidden, messageOf, usd } from '../format.ts';
import { ErrorText } from './common.tsx';
import { QuotasForm } from './QuotasForm.tsx';

/** Tenants whose model usage is read too: past this, the table shows credits and quotas only. */
const MAX_USAGE_READS = 50;
const REFRESH_MS = 10_000;

interface Row {
  account: TenantAccountView;
  usage: UsageView | undefined;
}

/** "used / limit", or the use alone when there is no limit. */
function ofLimit(used: string, limit: string | undefined): string {
  return limit === undefined ? used : `${used} / ${limit}`;
}

/** A grant (or, negative, a debit) of credits to one tenant, with the reason the ledger keeps. */
function GrantForm({ client, tenants, onGranted }: { client: ReamClient; tenants: readonly string[]; onGranted: () => void }) {
  const [tenant, setTenant] = useState('');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  // A tenant the server knows nothing of yet: granted only once the admin confirms (a typo would make a new tenant).
  const [confirmNew, setConfirmNew] = useState('');

  const grant = async (): Promise<void> => {
    setError('');
    setMessage('');
    const credits = Number(amount);
    if (!Number.isSafeInteger(credits) || credits === 0) {
      setError('Grant refused: credits are a whole number other than 0 (negative takes credits back).');
      return;
    }
    const name = tenant.trim();
    if (!tenants.includes(name) && confirmNew !== name) {
      setConfirmNew(name);
      setMessage(`No tenant is named ${name} yet: press Grant again to grant to a new tenant of that name.`);
      return;
    }
    setConfirmNew('');
    try {
      const answer = await client.grantCredits(tenant.trim(), { amount: credits, reason });
      setMessage(`${tenant.trim()} now has ${answer.balance} credits.`);
      setAmount('');
      setReason('');
      onGranted();
    } catch (failure) {
      setError(`Grant refused: ${messageOf(failure)}`);
    }
  };

  return (
    <form
      class="grant"
      aria-label="Grant credits"
      onSubmit={(event) => {
        event.preventDefault();
        void grant();
      }}
    >
      <label for="grant-tenant">Grant to tenant</label>
      <input id="grant-tenant" list="grant-tenants" required maxLength={200} value={tenant} onInput={(event) => setTenant(event.currentTarget.value)} />
      <datalist id="grant-tenants">
        {tenants.map((id) => (
          <option key={id} value={id} />
        ))}
      </datalist>
      <label for="grant-amount">Credits</label>
      <input id="grant-amount" type="number" step={1} required value={amount} onInput={(event) => setAmount(event.currentTarget.value)} />
      <label for="grant-reason">Reason</label>
      <input id="grant-reason" required maxLength={500} value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
      <button type="submit">Grant</button>
      <p id="grant-result" aria-live="polite">
        {message}
      </p>
      <ErrorText message={error} id="grant-error" />
    </form>
  );
}

/**
 * Admin: every tenant with its credits, quotas and what they are measured against (pages today,
 * unfinished jobs, stored bytes), and its model tokens and cost; forms to grant credits and set quotas.
 */
export function Tenants({ client }: { client: ReamClient }) {
  const [rows, setRows] = useState<Row[] | undefined>(undefined);
  const [forbidden, setForbidden] = useState(false);
  const [error, setError] = useState('');
  const [reload, setReload] = useState(0);

  useEffect(() => {
    // Refused once (not an admin): not asked again every few seconds.
    if (forbidden) return;
    const abort = new AbortController();
    const load = async (): Promise<void> => {
      try {
        const accounts = await client.tenants();
        const usages = await Promise.all(
          accounts.map((account, index) =>
            index < MAX_USAGE_READS ? client.usage({ tenant: account.tenantId, signal: abort.signal }).then((answer) => answer.usage, () => undefined) : Promise.resolve(undefined),
          ),
        );
        if (!abort.signal.aborted) setRows(accounts.map((account, index) => ({ account, usage: usages[index] })));
        setError('');
      } catch (failure) {
        if (abort.signal.aborted) return;
        if (isForbidden(failure)) setForbidden(true);
        else setError(messageOf(failure));
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [client, reload, forbidden]);

  if (forbidden) return null;
  return (
    <section aria-labelledby="tenants-heading">
      <h2 id="tenants-heading">Tenants</h2>
      <ErrorText message={error} id="tenants-error" />
      {rows === undefined ? null : rows.length === 0 ? (
        <p>No tenant has credits, quotas or jobs yet.</p>
      ) : (
        <div class="table-wrap">
          <table id="tenants">
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Credits</th>
                <th scope="col">Pages today</th>
                <th scope="col">Unfinished jobs</th>
                <th scope="col">Stored</th>
                <th scope="col">Model tokens</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ account, usage }) => (
                <tr key={account.tenantId} data-tenant={account.tenantId}>
                  <td>{account.tenantId}</td>
                  <td>{account.balance}</td>
                  <td>{ofLimit(String(account.usage.pagesToday), account.quotas.pagesPerDay?.toString())}</td>
                  <td>{ofLimit(String(account.usage.unfinishedJobs), account.quotas.concurrentJobs?.toString())}</td>
                  <td>{ofLimit(bytes(account.usage.storageBytes), account.quotas.storageBytes === undefined ? undefined : bytes(account.quotas.storageBytes))}</td>
                  <td>{usage === undefined ? '—' : `${usage.totalTokens} in ${usage.calls} calls`}</td>
                  <td>{usage?.costUsd === undefined ? '—' : usd(usage.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <GrantForm client={client} tenants={(rows ?? []).map((row) => row.account.tenantId)} onGranted={() => setReload((n) => n + 1)} />
      <QuotasForm client={client} accounts={(rows ?? []).map((row) => row.account)} onSet={() => setReload((n) => n + 1)} />
    </section>
  );
}
