/**
 * How long a claim that took the last due task lets the next claims answer "nothing" without
 * asking the database, unless this queue is told of new work first. Shorter than the worker's
 * idle poll (250 ms), so a poll after a sleep always asks; it bounds how late work this queue is
 * not told of is seen: added by another process, or a lease of another worker that ran out.
 */
export const DRAINED_HINT_MS = 200;

/**
 * "No task was due when the last claim ran." A worker claims again right after each task it
 * takes, and with one task due at a time (a pile of small files goes in one by one) every second
 * claim found nothing: thousands of statements in a run. The hint holds while no wake-up came
 * (enqueue, retry, release, a flow parent released, a delayed task due: each bumps `notified`)
 * and for at most DRAINED_HINT_MS.
 */
export class DrainedHint {
  #until = -Infinity;
  #notified = -1;

  /**
   * The claim that started at `now`, with `notified` wake-ups counted then, took the last due
   * task, leased until `leaseUntil`: that lease running out makes it due again.
   */
  set(now: number, notified: number, leaseUntil: number): void {
    this.#until = Math.min(now + DRAINED_HINT_MS, leaseUntil);
    this.#notified = notified;
  }

  /** Whether a claim at `now` can answer "nothing" without asking. */
  holds(now: number, notified: number): boolean {
    return notified === this.#notified && now < this.#until;
  }
}
