const HOUR_MS = 3600_000;
/** An unfinished upload's default lifetime when neither the retention nor the server sets one. */
export const DEFAULT_UPLOAD_HOURS = 24;

/** Hours per tenant an unfinished upload is kept. */
export type TenantHours = Readonly<Record<string, number>>;

/** A tus upload still receiving bytes, as its storage lists it. */
export interface UnfinishedUpload {
  id: string;
  /** The tenant that created it; undefined for one without an owner (never made by ream's routes). */
  tenantId: string | undefined;
  /** Epoch ms; undefined when the storage does not know it (such an upload never expires here). */
  createdAt: number | undefined;
  /** Bytes received so far. */
  offset: number;
  /** Undefined while the length is deferred. */
  size: number | undefined;
}

/**
 * Where a server keeps its unfinished tus uploads (a folder embedded, the bucket distributed):
 * what the retention sweep needs to expire them per tenant.
 */
export interface UnfinishedUploads {
  /** Every upload in the storage, finished ones included (the sweep skips those). */
  list(): AsyncIterable<UnfinishedUpload>;
  /** Removes the upload's bytes and metadata; removing one already gone is not an error. */
  remove(id: string): Promise<void>;
}

/** How long unfinished uploads live, per tenant. */
export interface UploadExpiry {
  /** The tenant's lifetime in ms (its own, else the default). */
  ttlMs(tenantId: string | undefined): number;
  /** The longest lifetime of any tenant: no upload may be refused as expired before it. */
  readonly longestMs: number;
}

/** Lifetimes from the retention's hours, with `defaultMs` (a server's own) in place of the retention's default when given. */
export function uploadExpiry(settings: { uploadsHours?: number; uploadTenants?: TenantHours }, defaultMs?: number): UploadExpiry {
  const fallback = defaultMs ?? (settings.uploadsHours ?? DEFAULT_UPLOAD_HOURS) * HOUR_MS;
  const tenants = new Map(Object.entries(settings.uploadTenants ?? {}).map(([tenant, hours]) => [tenant, hours * HOUR_MS]));
  return {
    ttlMs: (tenantId) => (tenantId === undefined ? undefined : tenants.get(tenantId)) ?? fallback,
    longestMs: Math.max(fallback, ...tenants.values()),
  };
}

/** Whether the upload is unfinished and older than its tenant's lifetime as of `now`. */
export function uploadExpired(upload: UnfinishedUpload, expiry: UploadExpiry, now: number): boolean {
  if (upload.createdAt === undefined) return false;
  const finished = upload.size !== undefined && upload.offset >= upload.size;
  return !finished && now > upload.createdAt + expiry.ttlMs(upload.tenantId);
}
