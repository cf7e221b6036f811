import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyRole, Store } from '../../store/port.ts';

const KEY = /^ream_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** sha256 of an API key's secret, hex: the only form of it that is stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** `{ id, secret }` of a well-formed `ream_<id>_<secret>`, else undefined. */
export function parseApiKey(token: string): { id: string; secret: string } | undefined {
  const match = KEY.exec(token);
  return match?.[1] !== undefined && match[2] !== undefined ? { id: match[1], secret: match[2] } : undefined;
}

/** Makes and stores a new key; the returned `token` is shown once and never stored. */
export async function issueApiKey(
  store: Store,
  input: { tenantId: string; name: string; role: ApiKeyRole },
  now: number = Date.now(),
): Promise<{ record: ApiKeyRecord; token: string }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record = await store.createApiKey({ id, tenantId: input.tenantId, name: input.name, role: input.role, hash: hashSecret(secret) }, now);
  return { record, token: `ream_${id}_${secret}` };
}

/** The live (not revoked) key record of a presented token, else undefined. */
export async function findApiKey(store: Store, token: string): Promise<ApiKeyRecord | undefined> {
  const parsed = parseApiKey(token);
  if (!parsed) return undefined;
  const record = await store.findApiKeyByHash(hashSecret(parsed.secret));
  return record && record.id === parsed.id && record.revokedAt === null ? record : undefined;
}
