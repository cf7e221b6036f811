import { CreditKeeper } from './credits/credit-keeper.ts';
import { tenantAccounts, type TenantAccounts } from './credits/tenant-accounts.ts';
import { withLocalStore, type StoreLocation } from './local-store.ts';

/**
 * `ream tenants`: the tenants' credits and quotas straight in a deployment's store, without a
 * ream (a running server keeps serving). Grants made here are audited as `cli`.
 */
export function withTenantAccounts<T>(location: StoreLocation, use: (accounts: TenantAccounts) => Promise<T>): Promise<T> {
  // The prices are the serving processes' flags: this side only grants, reads and sets quotas.
  return withLocalStore(location, (store) => use(tenantAccounts(store, new CreditKeeper(store))));
}
