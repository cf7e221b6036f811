import { Ajv, type ValidateFunction } from 'ajv';
import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import { builtinPipelines } from './builtin.ts';
import { rowsPipeline } from './rows-pipeline.ts';
import type { Pipeline, PipelineFactory } from './types.ts';

/** The options schema of a pipeline that declares none: any object. */
export const ANY_OPTIONS_SCHEMA: JsonObject = { type: 'object' };

export interface PipelineDescription {
  name: string;
  /** The JSON Schema every job's options of this pipeline are checked against. */
  optionsSchema: JsonObject;
}

/** Named pipelines: the built-ins plus whatever the program registers. */
export class PipelineRegistry {
  readonly #factories = new Map<string, PipelineFactory>();
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false });

  constructor(custom: Record<string, PipelineFactory> = {}) {
    for (const [name, factory] of Object.entries({ ...builtinPipelines, rows: rowsPipeline(), ...custom })) this.#factories.set(name, factory);
  }

  names(): string[] {
    return [...this.#factories.keys()];
  }

  /** Each pipeline with the schema of its options, in registration order. */
  describe(): PipelineDescription[] {
    return [...this.#factories].map(([name, factory]) => ({ name, optionsSchema: factory.optionsSchema ?? ANY_OPTIONS_SCHEMA }));
  }

  /**
   * Throws `validation_failed` for an unknown name or options the pipeline refuses: first by its
   * own checks (the precise messages), then by its options schema, so that what the schema says
   * (and `GET /v1/pipelines` publishes) is what is enforced.
   */
  build(name: string, options: JsonObject): Pipeline {
    const factory = this.#factories.get(name);
    if (!factory) {
      throw ReamError.nonRetryable('validation_failed', `unknown pipeline "${name}"; known: ${this.names().join(', ')}`);
    }
    const pipeline = factory(options);
    checkAnalyzerNames(name, pipeline);
    if (factory.optionsSchema !== undefined) {
      let validate = this.#validators.get(name);
      if (validate === undefined) {
        validate = this.#ajv.compile(factory.optionsSchema);
        this.#validators.set(name, validate);
      }
      if (!validate(options)) {
        throw ReamError.nonRetryable('validation_failed', `options of the ${name} pipeline: ${this.#ajv.errorsText(validate.errors, { dataVar: 'options' })}`);
      }
    }
    return pipeline;
  }
}

/**
 * A document's analysis, and each chunk's, is kept by analyzer name: two analyzers of one name
 * (two model analyzers, each `llm` by default) would overwrite each other's answers and usage.
 */
function checkAnalyzerNames(pipelineName: string, pipeline: Pipeline): void {
  const seen = new Set<string>();
  for (const analyzer of pipeline.analyzers) {
    if (seen.has(analyzer.name)) {
      throw ReamError.nonRetryable('validation_failed', `the ${pipelineName} pipeline has two analyzers named "${analyzer.name}": give each its own name (createLlmAnalyzer's \`name\` option)`);
    }
    seen.add(analyzer.name);
  }
}
