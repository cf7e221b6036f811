export type ApiKeyRole = 'user' | 'admin';

/** An API key (`ream_<id>_<secret>`): only `hash`, sha256 of the secret in hex, is stored. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: ApiKeyRole;
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

export type NewApiKey = Pick<ApiKeyRecord, 'id' | 'tenantId' | 'name' | 'role' | 'hash'>;

/** A page of {@link KeyStore.listApiKeys}. */
export interface ApiKeyQuery {
  tenantId?: string;
  after?: Pick<ApiKeyRecord, 'createdAt' | 'id'>;
  limit: number;
}

/** API keys. Contract: test/conformance/store-keys.ts. */
export interface KeyStore {
  /** Stores a new key (its hash only). An id or hash that exists already is a conflict (`validation_failed`): never a replacement. */
  createApiKey(key: NewApiKey, now: number): Promise<ApiKeyRecord>;
  /** The key with this secret hash, revoked or not (the caller checks `revokedAt`). */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** The key with this id, revoked or not (the caller checks `revokedAt`). */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Oldest first (ties by id), at most `limit`, those after the key `after` (the last of the
   * previous page); all tenants when `tenantId` is omitted.
   */
  listApiKeys(query: ApiKeyQuery): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; idempotent, the first revocation time stays. An unknown id is `not_found`. */
  revokeApiKey(id: string, now: number): Promise<ApiKeyRecord>;
}
