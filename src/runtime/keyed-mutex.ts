/** Runs async sections one at a time per key (a job id). */
export interface JobLocks {
  run<T>(key: string, section: () => Promise<T>): Promise<T>;
}

/**
 * Runs async sections one at a time per key (a job id), in call order. Within one process this
 * is what makes "check then update" on a job atomic, e.g. two documents finishing at once must
 * not both close the job and emit `job.completed` twice.
 */
export class KeyedMutex implements JobLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(section, section);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
