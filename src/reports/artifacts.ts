/** One file a job made (a rendered report), stored in the blob store by its sha256. */
export interface Artifact {
  /** Unique in its job: `INV-001.pdf`. */
  name: string;
  sha256: string;
  size: number;
  mediaType: string;
  documentId: string;
  /** The 1-based data row it was rendered from; 0 for a report of a whole document. */
  row: number;
}

/** The name the `reports` analyzer's document data is stored under in `DocumentOutput.analysis`. */
export const REPORTS_ANALYZER = 'reports';

/** What the `reports` analyzer stores per document: its files in row order, names unique. */
export interface ReportsData {
  artifacts: Omit<Artifact, 'documentId'>[];
}

export const HTML_MEDIA_TYPE = 'text/html; charset=utf-8';
export const PDF_MEDIA_TYPE = 'application/pdf';
