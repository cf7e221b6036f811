// Retention: finished jobs past their tenant's retention go, with their results and events, and
// each removal is in the audit log; jobs kept "forever", recent ones and unfinished ones stay.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { RetentionSweeper } from '../../src/runtime/retention.ts';
import { runReam } from '../support/run-ream.ts';
import { makePdf } from '../support/make-pdf.ts';

const DAY = 24 * 3600_000;

test('a sweep removes each tenant\'s finished jobs past its retention, records it, and keeps the rest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-retention-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, retention: { jobsDays: 30, tenants: { brief: 1, archive: null } } });
  try {
    const pdf = join(dir, 'a.pdf');
    await writeFile(pdf, await makePdf({ pages: ['kept or not'] }));
    const jobOf = async (tenantId: string): Promise<string> => {
      const job = await ream.submit({ tenantId, files: [pdf] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      return job.id;
    };
    const [brief, standard, archive] = [await jobOf('brief'), await jobOf('standard'), await jobOf('archive')];
    const now = Date.now();

    assert.equal((await ream.sweepRetention(now)).jobs, 0, 'nothing is old yet');
    assert.deepEqual(await ream.sweepRetention(now + 2 * DAY), { jobs: 1, documents: 0, blobs: 0, bytes: 0, uploads: 0, uploadBytes: 0 }, 'the brief tenant keeps jobs one day (documents are kept: no document retention)');
    assert.equal(await ream.getJob(brief), undefined);
    assert.deepEqual(await ream.listEvents(brief, 0), [], 'its events went with it');
    assert.deepEqual(await ream.jobDocuments(brief), []);
    assert.ok(await ream.getJob(standard));

    assert.equal((await ream.sweepRetention(now + 31 * DAY)).jobs, 1, 'the others keep them 30 days');
    assert.equal(await ream.getJob(standard), undefined);
    assert.ok(await ream.getJob(archive), 'kept forever');
    assert.equal((await ream.sweepRetention(now + 3650 * DAY)).jobs, 0);

    const audit = await ream.listAudit({ action: 'retention.delete', limit: 10 });
    assert.deepEqual(audit.map((e) => [e.tenantId, e.target, e.subject]), [['brief', brief, 'retention'], ['standard', standard, 'retention']]);
    assert.deepEqual(audit.map((e) => (e.details as { keptDays: number }).keptDays), [1, 30]);
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('ream serve refuses a malformed retention flag with a usage error', async () => {
  for (const flag of [['--retention-days', '0'], ['--retention-tenant', 'nodays'], ['--retention-tenant', 'a=-3'], ['--retention-documents-days', '-1'], ['--retention-documents-tenant', 'a=']]) {
    const run = await runReam(['serve', '--port', '0', ...flag]);
    assert.equal(run.code, 2, `${flag.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /retention/);
  }
});

test('a process sweeps a minute after it starts, then every interval: one restarted more often than hourly still sweeps', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const asked: string[] = [];
  const store = {
    listJobsFinishedBefore: () => {
      asked.push('jobs');
      return Promise.resolve([]);
    },
    listUnusedDocumentsBefore: () => Promise.resolve([]),
    appendAudit: () => Promise.resolve('a'),
  };
  const sweeper = new RetentionSweeper({ store, deleteJob: () => Promise.resolve(), removeDocument: () => Promise.reject(new Error('none')) }, { jobsDays: 1 });
  sweeper.start();
  t.mock.timers.tick(59_000);
  assert.deepEqual(asked, [], 'not at once');
  t.mock.timers.tick(1_000);
  assert.deepEqual(asked, ['jobs'], 'a minute after the start');
  void sweeper.stop();
});
