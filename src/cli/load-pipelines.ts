import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReamError } from '../errors.ts';
import type { PipelineFactory } from '../pipeline/types.ts';

/**
 * Loads pipelines of the user's own from a module (`--pipelines ./my-pipelines.js`): its
 * `pipelines` export (or default export) maps names to factories. Every process of a
 * distributed deployment that runs tasks must load the same module, since a task names its
 * pipeline and is rebuilt from (name, options) wherever it runs.
 */
export async function loadPipelines(path: string | undefined): Promise<Record<string, PipelineFactory> | undefined> {
  if (path === undefined) return undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw ReamError.nonRetryable('validation_failed', `could not load --pipelines ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const exported = module.pipelines ?? module.default;
  if (typeof exported !== 'object' || exported === null) {
    throw ReamError.nonRetryable('validation_failed', `--pipelines ${path} must export "pipelines" (or a default export): an object of pipeline factories by name`);
  }
  const pipelines: Record<string, PipelineFactory> = {};
  for (const [name, factory] of Object.entries(exported)) {
    if (typeof factory !== 'function') {
      throw ReamError.nonRetryable('validation_failed', `--pipelines ${path}: "${name}" is not a function (a pipeline factory)`);
    }
    pipelines[name] = factory as PipelineFactory;
  }
  return pipelines;
}
