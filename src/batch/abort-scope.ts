import type { ReamError } from '../errors.ts';

/** Something in flight that can be told to give up: a running attempt, a retry sleep. */
export interface Abortable {
  abort(reason: ReamError): void;
}

/**
 * One abort switch for everything a batch has in flight: running attempts and retry sleeps
 * register a plain callback here, and `stop` calls them all. No EventTarget listener per item
 * (adding and removing them was the largest cost of an item in profiles), and nothing is ever
 * attached to the caller's signal but the batch's one listener.
 *
 * It also owns the signal that attempts without a timeout share: such an attempt can only be
 * aborted by the whole batch stopping, so one signal serves them all, and an `AbortController`
 * per attempt — measurable in the scheduling benchmark — is only made when a timeout needs it.
 */
export class AbortScope {
  readonly #open = new Set<Abortable>();
  readonly #controller = new AbortController();
  #reason: ReamError | undefined;

  /** Aborts, with the stop reason, when the scope stops. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the scope was stopped, or undefined while it runs. */
  get reason(): ReamError | undefined {
    return this.#reason;
  }

  /** Registers `abortable` until `close`; throws the reason if the scope already stopped. */
  open(abortable: Abortable): void {
    if (this.#reason) throw this.#reason;
    this.#open.add(abortable);
  }

  close(abortable: Abortable): void {
    this.#open.delete(abortable);
  }

  /** Aborts everything open now, and refuses anything opened later. Only the first reason counts. */
  stop(reason: ReamError): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#controller.abort(reason);
    const open = [...this.#open];
    this.#open.clear();
    for (const abortable of open) abortable.abort(reason);
  }

  /** Waits `ms`, or rejects with the reason as soon as the scope stops. Keeps the process alive. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sleeper: Abortable = {
        abort: (reason) => {
          clearTimeout(timer);
          reject(reason);
        },
      };
      this.open(sleeper); // throws (so rejects) if already stopped
      const timer = setTimeout(() => {
        this.close(sleeper);
        resolve();
      }, ms);
    });
  }
}
