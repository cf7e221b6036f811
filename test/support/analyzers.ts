import type { Analyzer } from '../../src/analyzers/port.ts';
import type { ReamError } from '../../src/errors.ts';
import { builtinPipelines } from '../../src/pipeline/builtin.ts';
import type { PipelineFactory } from '../../src/pipeline/types.ts';

/**
 * An analyzer that counts its calls per chunk (keyed by the chunk's first page) and fails when
 * `failure(firstPage, call)` returns an error; otherwise it reports `seen: <first page>`.
 */
export function countingAnalyzer(
  calls: Map<number, number>,
  failure: (firstPage: number, call: number) => ReamError | undefined,
): Analyzer {
  return {
    name: 'counting',
    config: null,
    analyze(pages) {
      const first = pages[0]?.page ?? 0;
      const n = (calls.get(first) ?? 0) + 1;
      calls.set(first, n);
      const error = failure(first, n);
      if (error) return Promise.reject(error);
      return Promise.resolve({ seen: [{ value: String(first), page: first }] });
    },
  };
}

/** The built-in `extract` pipeline with `analyzer` plugged in, under `name`. */
export function extractWith(name: string, analyzer: Analyzer): Record<string, PipelineFactory> {
  return { [name]: (options) => ({ ...builtinPipelines.extract!(options), name, analyzers: [analyzer] }) };
}
