import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/events/types.ts';
import type { DocumentStore, JobDocumentStore, JobStore, NewJob } from '../../src/store/port.ts';

// Records the store suites build their cases from: unique ids, so cases never collide even on a
// database that other cases share.

export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return { id: randomUUID(), tenantId: 't1', key: null, pipeline: 'extract', options: { lang: 'en' }, priority: 0, ...overrides };
}

/** A 64-hex-digit sha256 made from `n`. */
export function sha(n: number): string {
  return n.toString(16).padStart(64, '0');
}

export function newEvent(jobId: string, tenantId = 't1'): NewEvent {
  return {
    type: 'job.progress',
    jobId,
    tenantId,
    at: 1_000,
    progress: { documentsDone: 0, documentsTotal: 1, pagesDone: 0, pagesTotal: 10, percent: 0, etaSeconds: null },
  };
}

type JobWithDocumentsStore = Pick<JobStore, 'createJob'> & Pick<DocumentStore, 'putDocument'> & Pick<JobDocumentStore, 'addJobDocuments'>;

/** A job with `n` documents attached, in order. */
export async function jobWithDocuments(store: JobWithDocumentsStore, n: number): Promise<{ jobId: string; documentIds: string[] }> {
  const job = await store.createJob(newJob(), 1_000);
  const documentIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const doc = await store.putDocument(
      { id: randomUUID(), tenantId: 't1', sha256: sha(1_000 + i + Math.floor(Math.random() * 1e9)), name: `d${i}.pdf`, size: 10, mediaType: 'application/pdf' },
      1_000,
    );
    documentIds.push(doc.id);
  }
  await store.addJobDocuments(documentIds.map((documentId, ordinal) => ({ jobId: job.id, documentId, ordinal, source: `d${ordinal}.pdf` })));
  return { jobId: job.id, documentIds };
}
