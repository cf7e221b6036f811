import type { TaskRecords } from './bullmq-records.ts';

/**
 * The task kinds (one BullMQ queue each) this process knows of: a claim without `kinds` looks at
 * all of them, and the lease sweep and `counts()` walk them. Kept in Redis (TaskRecords) so a
 * process learns the kinds others enqueued, and learnt at once from `<prefix>:work` messages.
 */
export class KnownKinds {
  readonly #records: TaskRecords;
  readonly #kinds = new Set<string>();

  constructor(records: TaskRecords) {
    this.#records = records;
  }

  has(kind: string): boolean {
    return this.#kinds.has(kind);
  }

  all(): string[] {
    return [...this.#kinds];
  }

  /** Every kind ever enqueued on the prefix, read again from Redis. */
  async refresh(): Promise<Set<string>> {
    for (const kind of await this.#records.listKinds()) this.#kinds.add(kind);
    return this.#kinds;
  }

  /**
   * Records the kinds of tasks about to be added, in Redis every time (a set add, idempotent):
   * written only for kinds new to this process, a Redis that lost its data (a flush, a restart
   * without AOF) never heard of them again, and workers started since never claimed them.
   */
  async register(kinds: Iterable<string>): Promise<void> {
    const all = [...new Set(kinds)];
    await this.#records.registerKinds(all);
    for (const kind of all) this.#kinds.add(kind);
  }

  /** Learns the kinds a `<prefix>:work` message names (see TaskRecords.announceWork). */
  learn(message: string): void {
    for (const kind of parseKinds(message)) this.#kinds.add(kind);
  }
}

function parseKinds(message: string): string[] {
  try {
    const parsed: unknown = JSON.parse(message);
    return Array.isArray(parsed) ? parsed.filter((kind): kind is string => typeof kind === 'string') : [];
  } catch {
    return []; // not ours: still a reason to look for work
  }
}
