import { InvalidArgumentError, type Command } from 'commander';
import type { RetentionSettings } from '../runtime/ream.ts';

export interface RetentionFlags {
  retentionDays?: number;
  retentionTenant?: Array<[string, number | null]>;
  retentionDocumentsDays?: number;
  retentionDocumentsTenant?: Array<[string, number | null]>;
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of days above 0');
  return n;
}

/** `tenant=days` or `tenant=forever`, collected over repeats. */
function tenantDays(value: string, previous: Array<[string, number | null]> = []): Array<[string, number | null]> {
  const at = value.lastIndexOf('=');
  const [tenant, kept] = [value.slice(0, at), value.slice(at + 1)];
  if (at <= 0 || kept === '') throw new InvalidArgumentError('expected tenant=days or tenant=forever');
  return [...previous, [tenant, kept === 'forever' ? null : days(kept)]];
}

/** `--retention-days`, `--retention-tenant` and their `--retention-documents-…` twins (serve): how long finished jobs and unused documents are kept. */
export function addRetentionFlags(command: Command): Command {
  return command
    .option('--retention-days <days>', 'remove finished jobs (results, events) this many days after they ended (default: keep until deleted)', days)
    .option('--retention-tenant <tenant=days>', 'the same for one tenant, in days or "forever" (repeatable)', tenantDays)
    .option('--retention-documents-days <days>', 'remove stored documents no job uses (and their blobs) this many days after they were stored (default: keep)', days)
    .option('--retention-documents-tenant <tenant=days>', 'the same for one tenant, in days or "forever" (repeatable)', tenantDays);
}

/** The retention the flags ask for, or undefined (keep everything). */
export function retentionFromFlags(flags: RetentionFlags): RetentionSettings | undefined {
  const settings = {
    ...(flags.retentionDays === undefined ? {} : { jobsDays: flags.retentionDays }),
    ...(flags.retentionTenant === undefined ? {} : { tenants: Object.fromEntries(flags.retentionTenant) }),
    ...(flags.retentionDocumentsDays === undefined ? {} : { documentsDays: flags.retentionDocumentsDays }),
    ...(flags.retentionDocumentsTenant === undefined ? {} : { documentTenants: Object.fromEntries(flags.retentionDocumentsTenant) }),
  };
  return Object.keys(settings).length === 0 ? undefined : settings;
}
