import assert from 'node:assert/strict';
import type { JobRecord, JobStatus, JobStore, ListJobsQuery } from '../../src/store/port.ts';
import { seeded } from '../../bench/seeded-random.ts';
import { newJob } from './store-fixtures.ts';
import type { ConformanceCase } from './suite.ts';

/** Every page of a list, followed to its end. */
async function allPages(store: Pick<JobStore, 'listJobs'>, query: Omit<ListJobsQuery, 'cursor'>): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.listJobs({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    jobs.push(...page.items);
    if (page.nextCursor === null) return jobs;
    cursor = page.nextCursor;
  }
  throw new Error('the list never ended');
}

/** The search's meaning (ASCII case-blind id start or pipeline part), applied to the unsearched list. */
function matches(job: JobRecord, search: string): boolean {
  const text = search.trim().toLowerCase();
  return job.id.toLowerCase().startsWith(text) || job.pipeline.toLowerCase().includes(text);
}

const ID_STARTS = ['job', 'Job', 'JOB', 'doc', 'pdf', 'PDF', 'x_y', 'x%y', 'xay', 'q\\r'];
const PIPELINES = ['extract', 'Extract', 'pdf-text', 'scan-pdf', 'ocr', 'OCR-Pdf', 'x_y', 'x%y', 'xay', 'a\\b', ...Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`)];
const STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'failed'];

export const jobSearchCases: ConformanceCase<{ store: JobStore }>[] = [
  {
    name: 'listJobs by search pages the very jobs, in the very order, that the unsearched list holds and the search matches, in any tenant, both orders',
    async run({ store }) {
      const seed = 20_261_207;
      // Seeded: a failure names its seed and replays.
      const next = seeded(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const tenants = ['t0', 't1', 't2', 't3'];
      // t0 holds more `job`-start ids than one search reads by their index, so both ways of reading run.
      const plan: { tenantId: string; start: string }[] = Array.from({ length: 620 }, () => ({ tenantId: 't0', start: pick(['job', 'Job', 'JOB']) }));
      for (let i = 0; i < 500; i++) plan.push({ tenantId: pick(tenants), start: pick(ID_STARTS) });
      let n = 0;
      for (const { tenantId, start } of plan) {
        n++;
        // Few distinct times: many jobs share one, so the id orders them and cursors cross ties.
        const job = await store.createJob(newJob({ id: `${start}-${n.toString(36)}`, tenantId, pipeline: pick(PIPELINES) }), 1 + Math.floor(next() * 60));
        const status = pick(STATUSES);
        if (status !== 'queued') await store.updateJob(job.id, { status });
      }
      const searches = ['job', 'JOB-1', 'j', 'pdf', 'PDF-', 'p', 'p0', 'p1', 'x_y', 'x%', '_', '%', '\\', 'q\\', 'a\\b', 'ocr', ' Extract ', 'e', 'nothing', '-', 'job-a', 'doc-1'];
      for (const tenantId of [...tenants, undefined]) {
        for (const order of ['newest', 'oldest'] as const) {
          for (const status of [undefined, pick(STATUSES)]) {
            const base = { ...(tenantId === undefined ? {} : { tenantId }), ...(status === undefined ? {} : { status }), order };
            const everyJob = await allPages(store, { ...base, limit: 500 });
            for (const search of searches) {
              const expected = everyJob.filter((job) => matches(job, search)).map((job) => job.id);
              const limit = pick([2, 7, 50, 500]);
              const what = `seed ${seed}, tenant ${tenantId ?? '*'}, ${order}, status ${status ?? 'any'}, search ${JSON.stringify(search)}, limit ${limit}`;
              assert.deepEqual((await allPages(store, { ...base, search, limit })).map((job) => job.id), expected, what);
              const { total } = await store.listJobs({ ...base, search, limit: 1, total: true });
              assert.deepEqual(total, { count: expected.length, exact: true }, what);
            }
          }
        }
      }
    },
  },
];

jobSearchCases.push({
  name: 'listJobs counts up to 10,000 jobs exactly and says past that it stopped, searched or not',
  async run({ store }) {
    const made: Promise<JobRecord>[] = [];
    // 5,000 jobs found by their id's start, 5,001 by their pipeline: 10,001 either way, 10,000 queued.
    for (let i = 0; i < 10_001; i++) {
      made.push(store.createJob(i < 5_000 ? newJob({ id: `pdf-${i}`, pipeline: 'ocr' }) : newJob({ id: `z-${i}`, pipeline: 'pdf' }), i));
      if (made.length === 200) await Promise.all(made.splice(0));
    }
    await Promise.all(made);
    await store.updateJob('z-10000', { status: 'running' });
    const total = async (query: Omit<ListJobsQuery, 'total'>) => (await store.listJobs({ limit: 1, ...query, total: true })).total;
    assert.deepEqual(await total({ tenantId: 't1' }), { count: 10_000, exact: false });
    assert.deepEqual(await total({}), { count: 10_000, exact: false }, 'every tenant\'s');
    assert.deepEqual(await total({ tenantId: 't1', search: 'PDF' }), { count: 10_000, exact: false });
    assert.deepEqual(await total({ search: 'pdf' }), { count: 10_000, exact: false }, 'every tenant\'s, searched');
    assert.deepEqual(await total({ tenantId: 't1', status: 'queued' }), { count: 10_000, exact: true }, 'the cap itself is exact');
    assert.deepEqual(await total({ tenantId: 't1', status: 'queued', search: 'pdf' }), { count: 10_000, exact: true });
    assert.deepEqual(await total({ tenantId: 't1', search: 'ocr' }), { count: 5_000, exact: true });
    assert.deepEqual(await total({ tenantId: 't1', search: 'z-9' }), { count: 1_000, exact: true });
  },
});
