import type { DocumentOutput } from '../pipeline/types.ts';
import type { ArtifactBlob } from '../store/job-document-store.ts';
import { REPORTS_ANALYZER, type Artifact, type ReportsData } from './artifacts.ts';
import { UniqueNames } from './file-names.ts';

/** The blobs of a document's report files (what deleting its job may remove), with their sizes. */
export function reportBlobs(output: Pick<DocumentOutput, 'analysis'>): ArtifactBlob[] {
  const data = output.analysis?.[REPORTS_ANALYZER] as ReportsData | undefined;
  return (data?.artifacts ?? []).map(({ sha256, size }) => ({ sha256, size }));
}

/** `report.pdf` → [`report`, `.pdf`]. */
function splitExt(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

/** Which of a job's files to list: one document's, one row's, from an offset, at most a number. */
export interface ArtifactQuery {
  documentId?: string;
  /** The data row (0: a report of a whole document). */
  row?: number;
  /** Files of the listing passed over first (default 0). */
  offset?: number;
  /** At most this many (default all). */
  limit?: number;
}

/**
 * A job's files, from its documents' results in input order. Names are unique per document
 * already; a name two documents share gets `-2` in the later one (its `.html` and `.pdf` alike).
 * With a query, only those it asks for; the results after the last one listed are not read.
 */
export async function jobArtifacts(results: AsyncIterable<DocumentOutput>, query: ArtifactQuery = {}): Promise<Artifact[]> {
  const names = new UniqueNames();
  const artifacts: Artifact[] = [];
  const { offset = 0, limit = Infinity } = query;
  let skipped = 0;
  for await (const output of results) {
    const data = output.analysis?.[REPORTS_ANALYZER] as ReportsData | undefined;
    const renamed = new Map<string, string>();
    for (const artifact of data?.artifacts ?? []) {
      // Every name is taken, listed or not: a later file's `-2` depends on all before it.
      const [base, ext] = splitExt(artifact.name);
      let unique = renamed.get(base);
      if (unique === undefined) {
        unique = names.take(base);
        renamed.set(base, unique);
      }
      if ((query.documentId !== undefined && output.documentId !== query.documentId) || (query.row !== undefined && artifact.row !== query.row)) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      artifacts.push({ ...artifact, name: `${unique}${ext}`, documentId: output.documentId });
      if (artifacts.length >= limit) return artifacts;
    }
  }
  return artifacts;
}
