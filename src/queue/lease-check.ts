/**
 * Longest time between two probes for exhausted leases (a leased task on its last attempt whose
 * lease ran out), made before claims. Bounds how late such a task is failed: at most this long
 * after its lease ran out, at the first claim from then on.
 */
export const LEASE_CHECK_MS = 1_000;

/**
 * When the probe before a claim can find something. It ran before every claim (tens of thousands
 * of statements in a run of small files, all finding nothing): now once per LEASE_CHECK_MS, and at
 * the end of each lease this queue gives out on a task's last attempt, so such a task fails at its
 * lease's end as before. Leases it cannot see coming — another process's, a lease made a last one
 * by `cancelJob`, or extended and then dropped — are found by the interval.
 */
export class LeaseCheckGate {
  #next = -Infinity;

  /** Whether to probe at `now`; if so, the next probe is due an interval later. */
  due(now: number): boolean {
    if (now < this.#next) return false;
    this.#next = now + LEASE_CHECK_MS;
    return true;
  }

  /** A lease on a task's last attempt runs out at `until`: probe from then on. */
  lastLeaseUntil(until: number): void {
    this.#next = Math.min(this.#next, until);
  }
}
