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

/**
 * A job's files, from its documents' results in input order. Names are unique per document
 * already; a name two documents share gets `-2` in the later one (its `.html` and `.pdf` alike).
 */
export async function jobArtifacts(results: AsyncIterable<DocumentOutput>): Promise<Artifact[]> {
  const names = new UniqueNames();
  const artifacts: Artifact[] = [];
  for await (const output of results) {
    const data = output.analysis?.[REPORTS_ANALYZER] as ReportsData | undefined;
    const renamed = new Map<string, string>();
    for (const artifact of data?.artifacts ?? []) {
      const [base, ext] = splitExt(artifact.name);
      let unique = renamed.get(base);
      if (unique === undefined) {
        unique = names.take(base);
        renamed.set(base, unique);
      }
      artifacts.push({ ...artifact, name: `${unique}${ext}`, documentId: output.documentId });
    }
  }
  return artifacts;
}
