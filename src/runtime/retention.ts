import type { JobRecord, Store } from '../store/port.ts';

const DAY_MS = 24 * 3600_000;
/** Jobs removed per store query; a sweep goes on until none is left. */
const BATCH = 100;

/**
 * How long finished jobs are kept. A job goes with everything recorded for it: its results,
 * chunk checkpoints and events (stored files stay: other jobs may use the same content).
 */
export interface RetentionSettings {
  /** Days a job is kept after it ended; undefined keeps jobs until deleted. */
  jobsDays?: number;
  /** Per tenant, in place of `jobsDays`: days, or null to keep that tenant's jobs until deleted. */
  tenants?: Readonly<Record<string, number | null>>;
  /** How often a sweep runs, in ms. Default one hour. */
  intervalMs?: number;
}

interface SweepParts {
  store: Pick<Store, 'listJobsFinishedBefore' | 'appendAudit'>;
  /** Deletes a job the way `DELETE /v1/jobs/:id` does. */
  deleteJob(jobId: string): Promise<void>;
}

/**
 * Removes finished jobs past their tenant's retention, and writes each removal to the audit log
 * (`retention.delete`, subject `retention`). Several server instances may sweep at once: a job
 * another one removed first is skipped.
 */
export class RetentionSweeper {
  readonly #parts: SweepParts;
  readonly #settings: RetentionSettings;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(parts: SweepParts, settings: RetentionSettings) {
    this.#parts = parts;
    this.#settings = settings;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep().catch((error: unknown) => process.emitWarning(`ream retention: sweep failed: ${String(error)}`)), this.#settings.intervalMs ?? 3600_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One sweep as of `now`; answers how many jobs it removed. One at a time per process. */
  sweep(now = Date.now()): Promise<number> {
    this.#running ??= this.#sweep(now).finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(now: number): Promise<number> {
    const tenants = this.#settings.tenants ?? {};
    let removed = 0;
    for (const [tenantId, days] of Object.entries(tenants)) {
      if (days !== null) removed += await this.#remove({ tenantId }, now, days);
    }
    if (this.#settings.jobsDays !== undefined) removed += await this.#remove({ exceptTenants: Object.keys(tenants) }, now, this.#settings.jobsDays);
    return removed;
  }

  async #remove(scope: { tenantId?: string; exceptTenants?: readonly string[] }, now: number, days: number): Promise<number> {
    const before = now - days * DAY_MS;
    let removed = 0;
    for (;;) {
      const jobs = await this.#parts.store.listJobsFinishedBefore({ ...scope, before, limit: BATCH });
      for (const job of jobs) if (await this.#removeJob(job, days)) removed++;
      if (jobs.length < BATCH) return removed;
    }
  }

  async #removeJob(job: JobRecord, days: number): Promise<boolean> {
    try {
      await this.#parts.deleteJob(job.id);
    } catch {
      return false; // removed meanwhile (another instance, or a user)
    }
    await this.#parts.store.appendAudit({
      at: Date.now(), tenantId: job.tenantId, subject: 'retention', role: 'system', ip: null, action: 'retention.delete',
      target: job.id, status: 0, details: { finishedAt: job.finishedAt, keptDays: days },
    });
    return true;
  }
}
