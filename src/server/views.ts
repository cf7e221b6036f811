import type { Ream } from '../runtime/create-ream.ts';
import type { JobView } from '../api-types.ts';
import type { JobRecord } from '../store/port.ts';

// The job view lives in the runtime (webhook deliveries carry it too); the API re-exports it.
export { PRIORITIES, isPriorityName, type JobView, type PriorityName } from '../api-types.ts';

export async function loadJobView(ream: Ream, job: JobRecord): Promise<JobView> {
  return ream.jobView(job);
}
