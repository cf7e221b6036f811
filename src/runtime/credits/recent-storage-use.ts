/**
 * The bytes a tenant's storage quota counts, remembered between the checks of one process while
 * the tenant is far from its quota. Counting them exactly sums every document and report file of
 * the tenant: done for each report file of a big job, that made its rendering quadratic (9,000
 * rows: 151 s against 33 s without a quota). A remembered count is used only while it is recent
 * and leaves room to spare; near the quota every check counts exactly, so the quota still holds
 * to the byte there. Only for a process that is the sole writer of its store (embedded): it misses
 * what other processes store, and each of them could fill the quota's room on a count of its own.
 */
export class RecentStorageUse {
  /** How long a count is used for, in ms. */
  static readonly FRESH_MS = 2_000;
  /** Past this share of the quota, every check counts exactly. */
  static readonly NEAR_QUOTA = 0.9;
  readonly #counts = new Map<string, { used: number; at: number }>();

  /** The bytes counted for `tenantId`: remembered when recent and far from `limit`, else `count()`ed anew. */
  async used(tenantId: string, limit: number, incoming: number, count: () => Promise<number>): Promise<number> {
    const now = Date.now();
    const recent = this.#counts.get(tenantId);
    if (recent && now - recent.at < RecentStorageUse.FRESH_MS && recent.used + incoming <= limit * RecentStorageUse.NEAR_QUOTA) return recent.used;
    const used = await count();
    this.#forgetOld(now);
    this.#counts.set(tenantId, { used, at: now });
    return used;
  }

  /** Bytes this process has just stored for `tenantId`, added to its remembered count. */
  stored(tenantId: string, bytes: number): void {
    const recent = this.#counts.get(tenantId);
    if (recent) recent.used += bytes;
  }

  #forgetOld(now: number): void {
    for (const [tenantId, { at }] of this.#counts) if (now - at >= RecentStorageUse.FRESH_MS) this.#counts.delete(tenantId);
  }
}
