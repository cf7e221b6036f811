import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** How often the event loop's delay is sampled, in ms. */
const RESOLUTION_MS = 20;

export interface IntakeLimits {
  /** Stop claiming while the process's resident memory is above this, in MB. Default: no limit. */
  maxRssMb?: number;
  /** Stop claiming while the event loop's p99 delay over the last window is above this, in ms. Default: no limit. */
  maxEventLoopLagMs?: number;
  /**
   * Stop claiming while the machine's CPUs were busier than this over the last window, in percent
   * of all cores (100 = every core busy all the time). Default: no limit.
   */
  maxCpuPercent?: number;
}

export interface IntakeState {
  open: boolean;
  /** Why intake is closed (for logs and the workers list). */
  reason?: string;
  /** The process's resident memory in MB (0 when no memory limit is set: it is not read then). */
  rssMb: number;
  lagMs: number;
  /** The machine's CPU use over the last window, in percent of all cores (0 until measured, or when no CPU limit is set). */
  cpuPercent: number;
}

/** What the gate reads; tests pass their own. */
export interface IntakeProbes {
  /** The process's resident memory, in MB. */
  rssMb?: () => number;
  /** Busy and total CPU time of the machine so far, summed over cores, in ms. */
  cpuTimes?: () => { busy: number; total: number };
}

/** The machine's CPU time so far, summed over its cores (os.cpus()). */
function machineCpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * Resource-aware intake: a worker asks before each claim whether it may take more work. Closed
 * while memory, event-loop lag or the machine's CPU use is over its limit, so a loaded process
 * lets other workers take the tasks instead of slowing down everything it holds. Lag and CPU are
 * measured over a sliding window (reset every `windowMs`), so one slow moment does not stall intake.
 */
export class IntakeGate {
  readonly #limits: IntakeLimits;
  readonly #histogram: IntervalHistogram | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #rssMb: () => number;
  readonly #cpuTimes: () => { busy: number; total: number };
  #lastLagMs = 0;
  #lastCpuPercent = 0;
  #cpuMark: { busy: number; total: number };

  constructor(limits: IntakeLimits, windowMs = 2_000, probes: IntakeProbes = {}) {
    this.#limits = limits;
    this.#rssMb = probes.rssMb ?? (() => process.memoryUsage.rss() / 2 ** 20);
    this.#cpuTimes = probes.cpuTimes ?? machineCpuTimes;
    this.#cpuMark = this.#cpuTimes();
    if (limits.maxEventLoopLagMs !== undefined) {
      this.#histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.#histogram.enable();
    }
    if (limits.maxEventLoopLagMs !== undefined || limits.maxCpuPercent !== undefined) {
      this.#timer = setInterval(() => this.sample(), windowMs);
      this.#timer.unref();
    }
  }

  /** Closes the current window: measures its lag and CPU use, and starts the next. */
  sample(): void {
    if (this.#histogram) {
      // The histogram records the time between its samples, so a calm loop reads ~RESOLUTION_MS.
      this.#lastLagMs = Math.max(0, this.#histogram.percentile(99) / 1e6 - RESOLUTION_MS);
      this.#histogram.reset();
    }
    const now = this.#cpuTimes();
    const total = now.total - this.#cpuMark.total;
    if (total > 0) this.#lastCpuPercent = (100 * (now.busy - this.#cpuMark.busy)) / total;
    this.#cpuMark = now;
  }

  state(): IntakeState {
    // Asked before every claim: memory is read only when a limit needs it (the call is not free).
    const rssMb = this.#limits.maxRssMb === undefined ? 0 : this.#rssMb();
    const lagMs = this.#lastLagMs;
    const cpuPercent = this.#lastCpuPercent;
    const measured = { rssMb, lagMs, cpuPercent };
    const { maxRssMb, maxEventLoopLagMs, maxCpuPercent } = this.#limits;
    if (maxRssMb !== undefined && rssMb > maxRssMb) {
      return { open: false, reason: `memory ${Math.round(rssMb)} MB is over ${maxRssMb} MB`, ...measured };
    }
    if (maxEventLoopLagMs !== undefined && lagMs > maxEventLoopLagMs) {
      return { open: false, reason: `event-loop lag ${Math.round(lagMs)} ms is over ${maxEventLoopLagMs} ms`, ...measured };
    }
    if (maxCpuPercent !== undefined && cpuPercent > maxCpuPercent) {
      return { open: false, reason: `CPU use ${Math.round(cpuPercent)}% is over ${maxCpuPercent}%`, ...measured };
    }
    return { open: true, ...measured };
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#histogram?.disable();
  }
}
