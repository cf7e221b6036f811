import { createHash, randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { ApiKeyQuery, ApiKeyRecord, ApiKeyRole, AuditStore, KeyStore } from '../store/port.ts';
import { withLocalStore, type StoreLocation } from './local-store.ts';

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
  store: Pick<KeyStore, 'createApiKey'>,
  input: { tenantId: string; name: string; role: ApiKeyRole },
  now: number = Date.now(),
): Promise<{ record: ApiKeyRecord; token: string }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record = await store.createApiKey({ id, tenantId: input.tenantId, name: input.name, role: input.role, hash: hashSecret(secret) }, now);
  return { record, token: `ream_${id}_${secret}` };
}

/** The live (not revoked) key record of a presented token, else undefined. */
export async function findApiKey(store: Pick<KeyStore, 'findApiKeyByHash'>, token: string): Promise<ApiKeyRecord | undefined> {
  const parsed = parseApiKey(token);
  if (!parsed) return undefined;
  const record = await store.findApiKeyByHash(hashSecret(parsed.secret));
  return record && record.id === parsed.id && record.revokedAt === null ? record : undefined;
}

/** The OS account running the command; some containers have none by name. */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/** Where `ream keys` keeps keys: a data dir's SQLite, or a deployment's PostgreSQL when `databaseUrl` is set. */
export type KeyStoreLocation = StoreLocation;

/** The API keys of one deployment, without the rest of a ream. */
export interface ApiKeys {
  /** Makes and stores a new key; the returned `token` is shown once and never stored. */
  create(input: { tenantId: string; name: string; role: ApiKeyRole }): Promise<{ record: ApiKeyRecord; token: string }>;
  /** A page of keys, oldest first, after `after`; every tenant's when `tenantId` is omitted. */
  list(query: ApiKeyQuery): Promise<ApiKeyRecord[]>;
  /** Revokes a key by id (idempotent); an unknown id is `not_found`. */
  revoke(id: string): Promise<ApiKeyRecord>;
}

/**
 * Opens only the key store (not a ream, so no data-dir lock: a running `ream serve` holds it),
 * runs `use`, and closes it. Embedded: the data dir's SQLite (WAL mode lets this run beside a
 * serving process). Distributed: the deployment's PostgreSQL. Servers look keys up on every
 * request, so a new or revoked key takes effect at once.
 */
export async function withApiKeys<T>(location: KeyStoreLocation, use: (keys: ApiKeys) => Promise<T>): Promise<T> {
  // Key changes are audited as `cli` (someone with access to the host or the database), with the OS user.
  const audit = async (store: AuditStore, action: string, key: ApiKeyRecord): Promise<void> => {
    await store.appendAudit({
      at: Date.now(), tenantId: key.tenantId, subject: 'cli', role: 'admin', ip: null, action, target: key.id, status: 0,
      details: { role: key.role, name: key.name, osUser: osUser() },
    });
  };
  const keysOf = (store: KeyStore & AuditStore): ApiKeys => ({
    async create(input) {
      const issued = await issueApiKey(store, input);
      await audit(store, 'key.create', issued.record);
      return issued;
    },
    list: (query) => store.listApiKeys(query),
    async revoke(id) {
      const record = await store.revokeApiKey(id, Date.now());
      await audit(store, 'key.revoke', record);
      return record;
    },
  });
  return withLocalStore(location, (store) => use(keysOf(store)));
}
