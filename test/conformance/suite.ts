import { describe, it, type TestContext } from 'node:test';
import { isCI } from '../support/env.ts';

/**
 * What every conformance suite accepts. An adapter that cannot support a case skips it **by
 * name, with a reason** (as Hono's router suite does), so a skip is visible and argued, never
 * silent. Naming a case that does not exist is an error: a renamed case cannot go unchecked.
 */
export interface ConformanceOptions {
  skip?: Record<string, string>;
  /**
   * Set when a service the adapter needs does not answer (e.g. `Redis at redis://…`): every case
   * then skips saying so, or fails under CI=true, where nothing may skip.
   */
  unavailable?: string | undefined;
}

/** A fresh adapter per case, and how to dispose of it. */
export type Harness<T> = T & { cleanup(): Promise<void> };

export interface ConformanceCase<T> {
  name: string;
  run(subject: T, t: TestContext): Promise<void>;
}

export function registerSuite<T>(
  port: string,
  adapter: string,
  make: () => Promise<Harness<T>>,
  cases: readonly ConformanceCase<T>[],
  options: ConformanceOptions = {},
): void {
  const names = new Set(cases.map((c) => c.name));
  for (const skipped of Object.keys(options.skip ?? {})) {
    if (!names.has(skipped)) throw new Error(`${port} conformance: no case named "${skipped}" to skip`);
  }
  void describe(`${port} conformance: ${adapter}`, () => {
    for (const testCase of cases) {
      const missing = options.unavailable;
      const reason = missing !== undefined && !isCI ? `skipped: ${missing} is not available` : options.skip?.[testCase.name];
      void it(testCase.name, reason === undefined ? {} : { skip: reason }, async (t) => {
        if (missing !== undefined) throw new Error(`${missing} is required when CI=true but is not available`);
        const harness = await make();
        try {
          await testCase.run(harness, t);
        } finally {
          await harness.cleanup();
        }
      });
    }
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
