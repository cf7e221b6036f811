// A task names its job's pipeline, which the process that accepted the job knew. A worker
// without it (started without the deployment's `--pipelines`, or of an older version) must not
// fail such work for good (`validation_failed`, never retried): another worker can run it. It
// fails the attempt as `unavailable` instead (retried seconds later, by whichever worker claims
// it) and says so, once per pipeline, so that the operator finds the worker to fix.
import { ReamError } from '../errors.ts';
import type { Pipeline } from '../pipeline/types.ts';
import type { JobRecord } from '../store/port.ts';
import type { Engine } from './engine.ts';

const warned = new Set<string>();

/** The job's pipeline as this process builds it; `unavailable` (retryable) when this process has none of that name. */
export function pipelineHere(engine: Pick<Engine, 'buildPipeline' | 'describePipelines'>, job: Pick<JobRecord, 'pipeline' | 'options'>): Pipeline {
  const known = engine.describePipelines().map((described) => described.name);
  if (!known.includes(job.pipeline)) {
    const message = `this process has no pipeline "${job.pipeline}" (it knows ${known.join(', ')}): start every worker with the server's --pipelines; another worker may run the task meanwhile`;
    if (!warned.has(job.pipeline)) {
      warned.add(job.pipeline);
      process.emitWarning(`ream worker: ${message}`);
    }
    throw ReamError.retryable('unavailable', message, { details: { pipeline: job.pipeline } });
  }
  return engine.buildPipeline(job.pipeline, job.options);
}
