import type { JsonValue } from '../../json.ts';

/** Tokens one or more model calls used, from the provider's `usage`. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Calls actually made to the provider. */
  calls: number;
  /** Calls answered from the response cache (no tokens spent). */
  cachedCalls: number;
}

/** What one job (or tenant) has spent, per model. */
export interface ModelUsage extends TokenUsage {
  model: string;
}

/** One call's usage, charged to its job and tenant. */
export interface UsageEntry extends TokenUsage {
  jobId: string;
  tenantId: string;
  model: string;
}

/**
 * What analyzers that call paid services keep beside the engine's records (DESIGN.md §10, issue
 * 12): a response cache that outlives the process, and a usage ledger per job and tenant with
 * a token budget that holds across every worker of a deployment.
 */
export interface AnalysisStore {
  readonly name: string;
  /** The cached answer for `key`, or `undefined`. */
  cached(key: string): Promise<JsonValue | undefined>;
  /**
   * Remembers an answer; a key stored already keeps its first answer. `about`: the tenant's
   * document it answers about, for {@link forgetDocument}.
   */
  remember(key: string, value: JsonValue, about?: { tenantId: string; sha256: string }): Promise<void>;
  /** Forgets the answers about a tenant's document (its removal: they quote it). */
  forgetDocument(tenantId: string, sha256: string): Promise<void>;
  /** Adds usage to the job's and tenant's totals. */
  record(entry: UsageEntry): Promise<void>;
  /**
   * Sets `tokens` aside from the job's budget, atomically across processes: false (nothing set
   * aside) when spent + set aside + `tokens` would exceed `budget`. What is set aside lapses
   * after a lease when no reservation of the job was made since (its process died mid-call).
   */
  reserve(jobId: string, tokens: number, budget: number): Promise<boolean>;
  /**
   * When the job last set tokens aside (epoch ms, 0 if never): a call waiting for room since
   * before it waits for reservations that settle, or lapse (their process died), made by no one
   * since; one made since says the job's calls are alive and moving.
   */
  lastReservation(jobId: string): Promise<number>;
  /** Gives back a reservation once the call is over, its real cost counted as spent. */
  settle(jobId: string, reserved: number, spent: number): Promise<void>;
  /**
   * After a refused reservation of `tokens`: when what the job has spent leaves no room for them
   * (the refusal is for the budget, not for other calls' reservations, which may settle for
   * less), counts the job's `budget` as spent, for every process, so no later call (however
   * small) is made, and answers true. Calls in flight still settle.
   */
  exhaust(jobId: string, tokens: number, budget: number): Promise<boolean>;
  /**
   * What the job's `budget` leaves after what it spent (reservations of calls in flight not
   * counted, they may settle for less): 0 once it is spent, or its spending was ended
   * ({@link exhaust}). Only ever shrinks for a budget.
   */
  budgetLeft(jobId: string, budget: number): Promise<number>;
  /**
   * Records that the job's `budget` kept a call from being made for good though the job's
   * spending goes on: the call's last attempt was still refused for the job's other calls in
   * flight. What {@link budgetStop} answers (`ended` false unless its spending ends too); nothing
   * spent or set aside changes.
   */
  markStopped(jobId: string, budget: number): Promise<void>;
  /**
   * The budget that stopped the job's model calls, or `undefined` while none did: what the job
   * says of why its analysis is incomplete. `ended`: its spending ended ({@link exhaust} answered
   * true for it), not only a call refused for calls in flight ({@link markStopped}).
   */
  budgetStop(jobId: string): Promise<{ maxTokens: number; ended: boolean } | undefined>;
  /**
   * The job is retried: a stop {@link markStopped} recorded, its spending not ended, is
   * forgotten, since the calls it refused are asked again (a retry stopped so again records it
   * again). A budget whose spending ended stays ended: the retry asks the model nothing more.
   */
  forgetHeldStop(jobId: string): Promise<void>;
  /**
   * Forgets every job's reservations. Only for when no call of any process can be in flight: an
   * embedded ream opening its data dir (whose lock says no other process runs) after a crash.
   */
  releaseReservations(): Promise<void>;
  /** The job's usage per model (empty when it made no call). */
  jobUsage(jobId: string): Promise<ModelUsage[]>;
  /** A tenant's usage per model, across its jobs. */
  tenantUsage(tenantId: string): Promise<ModelUsage[]>;
  /** Usage per model across every tenant (for /metrics). */
  totalUsage(): Promise<ModelUsage[]>;
  close(): Promise<void>;
}

/**
 * How long a job's reservations count after its last one, in ms: well past one call (its time
 * limit, 2 minutes by default), so that only reservations of calls that can no longer settle lapse.
 */
export const RESERVATION_LEASE_MS = 10 * 60_000;

export const NO_USAGE: TokenUsage = Object.freeze({ promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 0 });

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    calls: a.calls + b.calls,
    cachedCalls: a.cachedCalls + b.cachedCalls,
  };
}
