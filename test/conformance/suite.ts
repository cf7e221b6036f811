import { describe, it, type TestContext } from 'node:test';

/**
 * What every conformance suite accepts. An adapter that cannot support a case skips it **by
 * name, with a reason** (as Hono's router suite does), so a skip is visible and argued, never
 * silent. Naming a case that does not exist is an error: a renamed case cannot go unchecked.
 */
export interface ConformanceOptions {
  skip?: Record<string, string>;
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
      const reason = options.skip?.[testCase.name];
      void it(testCase.name, reason === undefined ? {} : { skip: reason }, async (t) => {
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
