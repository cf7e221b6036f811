import { sql, type Kysely, type Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import { toNullableNumber, toNumber } from '../sql/dialect.ts';
import type { ApiKeysTable, KeyTables } from './api-keys-schema.ts';
import type { ApiKeyRecord, KeyStore } from './key-store.ts';

function apiKeyFromRow(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    role: row.role === 'admin' ? 'admin' : 'user',
    hash: row.hash,
    createdAt: toNumber(row.created_at),
    revokedAt: toNullableNumber(row.revoked_at),
  };
}

/** The API key port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`keyMigrations`). */
export function sqlKeyStore(kysely: Kysely<unknown>): KeyStore {
  const db = kysely.withTables<KeyTables>();
  return {
    async createApiKey(key, now) {
      // Both unique columns (id, hash) conflict into "nothing inserted": a conflict, never a replacement.
      const row = await db
        .insertInto('api_keys')
        .values({ id: key.id, tenant_id: key.tenantId, name: key.name, role: key.role, hash: key.hash, created_at: now, revoked_at: null })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw ReamError.nonRetryable('validation_failed', `API key ${key.id} exists already`);
      return apiKeyFromRow(row);
    },

    async findApiKeyByHash(hash) {
      const row = await db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row && apiKeyFromRow(row);
    },

    async getApiKey(id) {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && apiKeyFromRow(row);
    },

    async listApiKeys({ tenantId, after, limit }) {
      let select = db.selectFrom('api_keys').selectAll();
      if (tenantId !== undefined) select = select.where('tenant_id', '=', tenantId);
      if (after !== undefined) select = select.where(sql<boolean>`(created_at, id) > (${after.createdAt}, ${after.id})`);
      const rows = await select.orderBy('created_at').orderBy('id').limit(limit).execute();
      return rows.map(apiKeyFromRow);
    },

    async revokeApiKey(id, now) {
      // Only a key not revoked yet is touched: the first revocation time stays.
      await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw ReamError.nonRetryable('not_found', `no API key ${id}`);
      return apiKeyFromRow(row);
    },
  };
}
