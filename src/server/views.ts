import type { Ream } from '../runtime/create-ream.ts';
import { loadJobView as loadFromEngine, type JobView } from '../runtime/job-view.ts';
import type { JobRecord } from '../store/port.ts';

// The job view lives in the runtime (webhook deliveries carry it too); the API re-exports it.
export { PRIORITIES, isPriorityName, jobView, priorityName, type JobView, type PriorityName } from '../runtime/job-view.ts';

export async function loadJobView(ream: Ream, job: JobRecord): Promise<JobView> {
  return loadFromEngine(ream.engine, job);
}
