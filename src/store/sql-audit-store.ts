import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { JsonValue } from '../json.ts';
import { fromJsonText, toJsonText, toNumber } from '../sql/dialect.ts';
import type { AuditEntry, AuditStore } from './audit-store.ts';
import type { AuditTable, AuditTables } from './audit-schema.ts';

/**
 * An id that sorts by time across processes: the epoch ms in fixed-width base 36, then random
 * bits so that two entries of one millisecond never collide.
 */
function auditId(at: number): string {
  return `aud_${at.toString(36).padStart(9, '0')}_${randomBytes(8).toString('hex')}`;
}

function entryFromRow(row: Selectable<AuditTable>): AuditEntry {
  return {
    id: row.id, at: toNumber(row.at), tenantId: row.tenant_id, subject: row.subject, role: row.role, ip: row.ip,
    action: row.action, target: row.target, status: toNumber(row.status),
    ...(row.details === null ? {} : { details: fromJsonText<JsonValue>(row.details) }),
  };
}

/** The audit port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`auditMigrations`). */
export function sqlAuditStore(kysely: Kysely<unknown>): AuditStore {
  const db = kysely.withTables<AuditTables>();
  return {
    async appendAudit(entry) {
      const id = auditId(entry.at);
      await db.insertInto('audit_log').values({
        id, at: entry.at, tenant_id: entry.tenantId, subject: entry.subject, role: entry.role, ip: entry.ip,
        action: entry.action, target: entry.target, status: entry.status,
        details: entry.details === undefined ? null : toJsonText(entry.details),
      }).execute();
      return id;
    },

    async listAudit(query) {
      let select = db.selectFrom('audit_log').selectAll();
      if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
      if (query.action !== undefined) select = select.where('action', '=', query.action);
      if (query.since !== undefined) select = select.where('at', '>=', query.since);
      if (query.until !== undefined) select = select.where('at', '<', query.until);
      if (query.afterId !== undefined) select = select.where('id', '>', query.afterId);
      const rows = await select.orderBy('id').limit(query.limit).execute();
      return rows.map(entryFromRow);
    },
  };
}
