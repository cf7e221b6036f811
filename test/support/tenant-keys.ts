import type { Ream } from '../../src/runtime/ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';

/** API keys of the HTTP tests' cast: two tenants' users (`tenant-a`, `tenant-b`) and an admin (tenant `ops`). */
export interface TenantKeys {
  a: string;
  b: string;
  admin: string;
}

export async function issueTenantKeys(ream: Ream): Promise<TenantKeys> {
  const { store } = adaptersOf(ream);
  return {
    a: (await issueApiKey(store, { tenantId: 'tenant-a', name: 'a', role: 'user' })).token,
    b: (await issueApiKey(store, { tenantId: 'tenant-b', name: 'b', role: 'user' })).token,
    admin: (await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' })).token,
  };
}
