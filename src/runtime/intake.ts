import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** How often the event loop's delay is sampled, in ms. */
const RESOLUTION_MS = 20;

export interface IntakeLimits {
  /** Stop claiming while the process's resident memory is above this, in MB. Default: no limit. */
  maxRssMb?: number;
  /** Stop claiming while the event loop's p99 delay over the last window is above this, in ms. Default: no limit. */
  maxEventLoopLagMs?: number;
}

export interface IntakeState {
  open: boolean;
  /** Why intake is closed (for logs and the workers list). */
  reason?: string;
  rssMb: number;
  lagMs: number;
}

/**
 * Resource-aware intake: a worker asks before each claim whether it may take more work. Closed
 * while memory or event-loop lag is over its limit, so a loaded process lets other workers take
 * the tasks instead of slowing down everything it holds. The lag is measured over a sliding
 * window (the histogram is reset every `windowMs`), so one slow moment does not stall intake.
 */
export class IntakeGate {
  readonly #limits: IntakeLimits;
  readonly #histogram: IntervalHistogram | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  #lastLagMs = 0;

  readonly #rssMb: () => number;

  /** `rssMb` reads the process's resident memory; tests pass their own. */
  constructor(limits: IntakeLimits, windowMs = 2_000, rssMb: () => number = () => process.memoryUsage.rss() / 2 ** 20) {
    this.#limits = limits;
    this.#rssMb = rssMb;
    if (limits.maxEventLoopLagMs !== undefined) {
      this.#histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.#histogram.enable();
      this.#timer = setInterval(() => {
        if (!this.#histogram) return;
        // The histogram records the time between its samples, so a calm loop reads ~RESOLUTION_MS.
        this.#lastLagMs = Math.max(0, this.#histogram.percentile(99) / 1e6 - RESOLUTION_MS);
        this.#histogram.reset();
      }, windowMs);
      this.#timer.unref();
    }
  }

  state(): IntakeState {
    const rssMb = this.#rssMb();
    const lagMs = this.#lastLagMs;
    const { maxRssMb, maxEventLoopLagMs } = this.#limits;
    if (maxRssMb !== undefined && rssMb > maxRssMb) {
      return { open: false, reason: `memory ${Math.round(rssMb)} MB is over ${maxRssMb} MB`, rssMb, lagMs };
    }
    if (maxEventLoopLagMs !== undefined && lagMs > maxEventLoopLagMs) {
      return { open: false, reason: `event-loop lag ${Math.round(lagMs)} ms is over ${maxEventLoopLagMs} ms`, rssMb, lagMs };
    }
    return { open: true, rssMb, lagMs };
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#histogram?.disable();
  }
}
