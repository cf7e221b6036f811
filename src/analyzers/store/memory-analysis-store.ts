import type { JsonValue } from '../../json.ts';
import { addUsage, NO_USAGE, RESERVATION_LEASE_MS, type AnalysisStore, type ModelUsage, type UsageEntry } from './port.ts';

/**
 * The analysis store of one process: what an analyzer uses when it runs outside a ream (called
 * directly), and the reference the SQL adapter is tested against.
 */
export class MemoryAnalysisStore implements AnalysisStore {
  readonly name = 'memory';
  readonly #cache = new Map<string, { text: string; about: string | undefined }>();
  readonly #usage: UsageEntry[] = [];
  readonly #budgets = new Map<string, { spent: number; reserved: number; reservedAt?: number; stoppedAt?: number }>();

  cached(key: string): Promise<JsonValue | undefined> {
    const entry = this.#cache.get(key);
    // Stored as text so a caller mutating an answer cannot change the cached one.
    return Promise.resolve(entry === undefined ? undefined : (JSON.parse(entry.text) as JsonValue));
  }

  remember(key: string, value: JsonValue, about?: { tenantId: string; sha256: string }): Promise<void> {
    if (!this.#cache.has(key)) this.#cache.set(key, { text: JSON.stringify(value), about: about && `${about.tenantId}\0${about.sha256}` });
    return Promise.resolve();
  }

  forgetDocument(tenantId: string, sha256: string): Promise<void> {
    for (const [key, entry] of this.#cache) if (entry.about === `${tenantId}\0${sha256}`) this.#cache.delete(key);
    return Promise.resolve();
  }

  record(entry: UsageEntry): Promise<void> {
    this.#usage.push({ ...entry });
    return Promise.resolve();
  }

  reserve(jobId: string, tokens: number, budget: number): Promise<boolean> {
    const state = this.#budgets.get(jobId) ?? { spent: 0, reserved: 0 };
    this.#budgets.set(jobId, state);
    // The lease of the SQL stores, for reservations made through this store by hand (a test's
    // other worker): this process's own calls always settle.
    if (state.reservedAt !== undefined && state.reservedAt + RESERVATION_LEASE_MS < Date.now()) state.reserved = 0;
    if (state.spent + state.reserved + tokens > budget) return Promise.resolve(false);
    state.reserved += tokens;
    state.reservedAt = Date.now();
    return Promise.resolve(true);
  }

  lastReservation(jobId: string): Promise<number> {
    return Promise.resolve(this.#budgets.get(jobId)?.reservedAt ?? 0);
  }

  releaseReservations(): Promise<void> {
    for (const state of this.#budgets.values()) state.reserved = 0;
    return Promise.resolve();
  }

  settle(jobId: string, reserved: number, spent: number): Promise<void> {
    const state = this.#budgets.get(jobId) ?? { spent: 0, reserved: 0 };
    state.reserved = Math.max(0, state.reserved - reserved);
    state.spent += spent;
    this.#budgets.set(jobId, state);
    return Promise.resolve();
  }

  exhaust(jobId: string, tokens: number, budget: number): Promise<boolean> {
    const state = this.#budgets.get(jobId) ?? { spent: 0, reserved: 0 };
    const exhausted = state.spent + tokens > budget;
    if (exhausted) {
      state.spent = Math.max(state.spent, budget);
      state.stoppedAt = budget;
    }
    this.#budgets.set(jobId, state);
    return Promise.resolve(exhausted);
  }

  budgetLeft(jobId: string, budget: number): Promise<number> {
    return Promise.resolve(Math.max(0, budget - (this.#budgets.get(jobId)?.spent ?? 0)));
  }

  markStopped(jobId: string, budget: number): Promise<void> {
    const state = this.#budgets.get(jobId) ?? { spent: 0, reserved: 0 };
    state.stoppedAt ??= budget;
    this.#budgets.set(jobId, state);
    return Promise.resolve();
  }

  budgetStop(jobId: string): Promise<{ maxTokens: number; ended: boolean } | undefined> {
    const state = this.#budgets.get(jobId);
    const stoppedAt = state?.stoppedAt;
    return Promise.resolve(stoppedAt === undefined ? undefined : { maxTokens: stoppedAt, ended: (state?.spent ?? 0) >= stoppedAt });
  }

  forgetHeldStop(jobId: string): Promise<void> {
    const state = this.#budgets.get(jobId);
    if (state?.stoppedAt !== undefined && state.spent < state.stoppedAt) delete state.stoppedAt;
    return Promise.resolve();
  }

  jobUsage(jobId: string): Promise<ModelUsage[]> {
    return Promise.resolve(byModel(this.#usage.filter((entry) => entry.jobId === jobId)));
  }

  tenantUsage(tenantId: string): Promise<ModelUsage[]> {
    return Promise.resolve(byModel(this.#usage.filter((entry) => entry.tenantId === tenantId)));
  }

  totalUsage(): Promise<ModelUsage[]> {
    return Promise.resolve(byModel(this.#usage));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function byModel(entries: readonly UsageEntry[]): ModelUsage[] {
  const totals = new Map<string, ModelUsage>();
  for (const entry of entries) {
    const sum = addUsage(totals.get(entry.model) ?? NO_USAGE, entry);
    totals.set(entry.model, { model: entry.model, ...sum });
  }
  return [...totals.values()].sort((a, b) => a.model.localeCompare(b.model));
}
