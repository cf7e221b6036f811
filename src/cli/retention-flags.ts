import { InvalidArgumentError, type Command } from 'commander';
import type { RetentionSettings } from '../runtime/ream.ts';

export interface RetentionFlags {
  retentionDays?: number;
  retentionTenant?: Array<[string, number | null]>;
  retentionDocumentsDays?: number;
  retentionDocumentsTenant?: Array<[string, number | null]>;
  retentionUploadsHours?: number;
  retentionUploadsTenant?: Array<[string, number]>;
}

function positive(unit: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of ${unit} above 0`);
    return n;
  };
}
const days = positive('days');
const hours = positive('hours');

/** `tenant=value`, split at the last `=`. */
function tenantValue(value: string, expected: string): [string, string] {
  const at = value.lastIndexOf('=');
  const [tenant, kept] = [value.slice(0, at), value.slice(at + 1)];
  if (at <= 0 || kept === '') throw new InvalidArgumentError(`expected ${expected}`);
  return [tenant, kept];
}

/** `tenant=days` or `tenant=forever`, collected over repeats. */
function tenantDays(value: string, previous: Array<[string, number | null]> = []): Array<[string, number | null]> {
  const [tenant, kept] = tenantValue(value, 'tenant=days or tenant=forever');
  return [...previous, [tenant, kept === 'forever' ? null : days(kept)]];
}

/** `tenant=hours`, collected over repeats (an unfinished upload always expires). */
function tenantHours(value: string, previous: Array<[string, number]> = []): Array<[string, number]> {
  const [tenant, kept] = tenantValue(value, 'tenant=hours');
  return [...previous, [tenant, hours(kept)]];
}

/**
 * `--retention-days`, `--retention-tenant` and their `--retention-documents-…` twins (serve): how
 * long finished jobs and unused documents are kept; `--retention-uploads-…`: unfinished tus uploads.
 */
export function addRetentionFlags(command: Command): Command {
  return command
    .option('--retention-days <days>', 'remove finished jobs (results, events) this many days after they ended (default: keep until deleted)', days)
    .option('--retention-tenant <tenant=days>', 'the same for one tenant, in days or "forever" (repeatable)', tenantDays)
    .option('--retention-documents-days <days>', 'remove stored documents no job uses (and their blobs) this many days after they were stored (default: keep)', days)
    .option('--retention-documents-tenant <tenant=days>', 'the same for one tenant, in days or "forever" (repeatable)', tenantDays)
    .option('--retention-uploads-hours <hours>', 'remove unfinished tus uploads this many hours after they were created (default: 24)', hours)
    .option('--retention-uploads-tenant <tenant=hours>', 'the same for one tenant (repeatable)', tenantHours);
}

/** The retention the flags ask for, or undefined (keep everything). */
export function retentionFromFlags(flags: RetentionFlags): RetentionSettings | undefined {
  const settings = {
    ...(flags.retentionDays === undefined ? {} : { jobsDays: flags.retentionDays }),
    ...(flags.retentionTenant === undefined ? {} : { tenants: Object.fromEntries(flags.retentionTenant) }),
    ...(flags.retentionDocumentsDays === undefined ? {} : { documentsDays: flags.retentionDocumentsDays }),
    ...(flags.retentionDocumentsTenant === undefined ? {} : { documentTenants: Object.fromEntries(flags.retentionDocumentsTenant) }),
    ...(flags.retentionUploadsHours === undefined ? {} : { uploadsHours: flags.retentionUploadsHours }),
    ...(flags.retentionUploadsTenant === undefined ? {} : { uploadTenants: Object.fromEntries(flags.retentionUploadsTenant) }),
  };
  return Object.keys(settings).length === 0 ? undefined : settings;
}
