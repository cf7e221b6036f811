import type { DocumentOutput } from '../pipeline/types.ts';
import type { ArtifactBlob, JobDocumentStore, ReportFileInput, ReportFileRecord } from '../store/job-document-store.ts';
import { REPORTS_ANALYZER, type Artifact, type ReportsData } from './artifacts.ts';

/** The blobs of a document's report files (what deleting its job may remove), with their sizes. */
export function reportBlobs(output: Pick<DocumentOutput, 'analysis'>): ArtifactBlob[] {
  const data = output.analysis?.[REPORTS_ANALYZER] as ReportsData | undefined;
  return (data?.artifacts ?? []).map(({ sha256, size }) => ({ sha256, size }));
}

/** A document's report files as its result names them (unique in the document), in row order. */
export function reportFiles(output: Pick<DocumentOutput, 'analysis'>): ReportFileInput[] {
  const data = output.analysis?.[REPORTS_ANALYZER] as ReportsData | undefined;
  return (data?.artifacts ?? []).map(({ name, row, sha256, size, mediaType }) => ({ name, row, sha256, size, mediaType }));
}

/** Which of a job's files to list: one document's, one row's, after a cursor, at most a number. */
export interface ArtifactQuery {
  documentId?: string;
  /** The data row (0: a report of a whole document). */
  row?: number;
  /** The `seq` of the last file of the previous page (the list's keyset cursor). */
  after?: number;
  /** At most this many (default all). */
  limit?: number;
}

/** A file as listed, with its place in the job's list (`seq`: the cursor after it). */
export type ListedArtifact = Artifact & { seq: number };

type ReportFileReader = Pick<JobDocumentStore, 'listJobReportFiles' | 'getJobReportFile' | 'putJobReportFiles' | 'jobArtifactBlobs'>;

function listed(file: ReportFileRecord): ListedArtifact {
  const { seq, name, sha256, size, mediaType, documentId, row } = file;
  return { seq, name, sha256, size, mediaType, documentId, row };
}

/**
 * A job whose documents ended before their files were recorded one by one (an older ream): its
 * files are recorded now from its results, in input order, which keeps the names they had. Asked
 * before a list or a lookup, and before a document of the job records its own files (one added or
 * redone after the upgrade): once the job has any row, the earlier files are never recorded.
 */
export async function recordEarlierFiles(store: ReportFileReader, jobId: string, results: () => AsyncIterable<DocumentOutput>): Promise<void> {
  if ((await store.listJobReportFiles(jobId, { limit: 1 })).length > 0 || (await store.jobArtifactBlobs(jobId)).length === 0) return;
  for await (const output of results()) {
    const files = reportFiles(output);
    if (files.length > 0) await store.putJobReportFiles(jobId, output.documentId, files);
  }
}

/**
 * A job's files (rendered reports) in the order their documents ended, from the rows recorded
 * then: a page costs its own rows, and paging a running job neither skips nor repeats a file
 * (a document ending meanwhile adds its files at the end). A name two documents share gets `-2`
 * in the one that ended later (its `.html` and `.pdf` alike).
 */
export async function jobArtifacts(store: ReportFileReader, jobId: string, results: () => AsyncIterable<DocumentOutput>, query: ArtifactQuery = {}): Promise<ListedArtifact[]> {
  await recordEarlierFiles(store, jobId, results);
  const { documentId, row, after, limit } = query;
  const files = await store.listJobReportFiles(jobId, {
    ...(documentId === undefined ? {} : { documentId }), ...(row === undefined ? {} : { row }), ...(after === undefined ? {} : { afterSeq: after }), ...(limit === undefined ? {} : { limit }),
  });
  return files.map(listed);
}

/** One of the job's files by its name, looked up directly; undefined when it has none by that name. */
export async function jobArtifact(store: ReportFileReader, jobId: string, name: string, results: () => AsyncIterable<DocumentOutput>): Promise<ListedArtifact | undefined> {
  await recordEarlierFiles(store, jobId, results);
  const file = await store.getJobReportFile(jobId, name);
  return file && listed(file);
}
