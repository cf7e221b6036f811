import type { Kysely } from 'kysely';
import type { Int, NullableInt } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  /** sha256 of the secret, hex. */
  hash: string;
  created_at: Int;
  revoked_at: NullableInt;
}

export type KeyTables = { api_keys: ApiKeysTable };

async function createApiKeys(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'created_at']).execute();
}

/** Every tenant's keys are listed a page at a time, oldest first. */
async function addCreatedIndex(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('api_keys_created').on('api_keys').columns(['created_at', 'id']).execute();
}

/** Before the store was split into ports, the `store` ledger's 0002_api_keys made this table. */
export const keyMigrations: PortMigrations = {
  port: 'api_keys',
  migrations: { '0001_initial': adoptingLegacy({ ledger: 'store', name: '0002_api_keys' }, createApiKeys), '0002_created_index': addCreatedIndex },
};
