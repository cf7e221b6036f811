import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import { builtinPipelines } from './builtin.ts';
import { rowsPipeline } from './rows-pipeline.ts';
import type { Pipeline, PipelineFactory } from './types.ts';

/** Named pipelines: the built-ins plus whatever the program registers. */
export class PipelineRegistry {
  readonly #factories = new Map<string, PipelineFactory>();

  constructor(custom: Record<string, PipelineFactory> = {}) {
    for (const [name, factory] of Object.entries({ ...builtinPipelines, rows: rowsPipeline(), ...custom })) this.#factories.set(name, factory);
  }

  names(): string[] {
    return [...this.#factories.keys()];
  }

  /** Throws `validation_failed` for an unknown name or options the pipeline refuses. */
  build(name: string, options: JsonObject): Pipeline {
    const factory = this.#factories.get(name);
    if (!factory) {
      throw ReamError.nonRetryable('validation_failed', `unknown pipeline "${name}"; known: ${this.names().join(', ')}`);
    }
    return factory(options);
  }
}
