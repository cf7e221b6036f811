import { readFileSync } from 'node:fs';

/** One line of a `ream run` results file (the fields the tests read). */
export interface Line {
  path: string;
  documentId?: string;
  parentId?: string;
  status: string;
  pageCount: number | null;
  mediaType?: string | null;
  metadata?: Record<string, unknown> | null;
  pages?: { page: number; text: string; source?: string; confidence?: number }[];
  warnings?: { page: number; code: string }[];
  text?: string;
  sha256: string | null;
  error: { code: string; message: string } | null;
}

export function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}
