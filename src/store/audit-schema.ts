import type { Kysely } from 'kysely';
import type { Int } from '../sql/columns.ts';
import type { PortMigrations } from '../sql/migrate.ts';

export interface AuditTable {
  id: string;
  at: Int;
  tenant_id: string;
  subject: string;
  role: string;
  ip: string | null;
  action: string;
  target: string | null;
  status: Int;
  /** JSON text, or null. */
  details: string | null;
}

export type AuditTables = { audit_log: AuditTable };

async function createAuditLog(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('details', 'text')
    .execute();
  await db.schema.createIndex('audit_log_tenant').on('audit_log').columns(['tenant_id', 'id']).execute();
}

export const auditMigrations: PortMigrations = { port: 'audit', migrations: { '0001_initial': createAuditLog } };
