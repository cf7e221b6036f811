// The bar an `ok` PDF with a text layer is held to against poppler's pdftotext: non-space text
// length within 10% of pdftotext's and word overlap (multiset F1 of words; of characters for CJK,
// which has no spaces between words) at least 0.90. The corpus parts hold the default engine to
// it, document by document; pdf-fidelity-table.ts measures both engines for docs/benchmarks.md.
import type { CorpusEntry } from '../support/env.ts';
import { letterF1, nonSpaceCount, wordF1 } from './text-similarity.ts';

export const MAX_LENGTH_DIFF = 0.1;
export const MIN_OVERLAP = 0.9;
/** What PDFium's exceptions (pdfium-layout-exceptions.ts) are still held to: every character. */
export const MIN_EXCEPTION_LETTERS = 0.98;
export const NO_TEXT_LAYER = ['needs-ocr', 'image-only', 'scanned', 'no-text'];
const CJK = ['cjk', 'ja', 'ko', 'zh', 'zh_CN'];

export interface Fidelity {
  name: string;
  /** Non-space characters, ours ÷ pdftotext's. */
  length: number;
  /** Word F1 (character F1 for CJK). */
  overlap: number;
  /** Letter and digit F1, whatever the script. */
  letters: number;
  cjk: boolean;
}

/** The documents held to the bar: `ok` PDFs with a text layer. */
export function heldToBar(entry: CorpusEntry): boolean {
  return entry.status === 'ok' && entry.name.endsWith('.pdf') && !entry.tags.some((tag) => NO_TEXT_LAYER.includes(tag));
}

export function fidelityOf(entry: CorpusEntry, ours: string, reference: string): Fidelity {
  const cjk = entry.tags.some((tag) => CJK.includes(tag));
  const theirs = nonSpaceCount(reference);
  return {
    name: entry.name,
    length: theirs === 0 ? (nonSpaceCount(ours) === 0 ? 1 : Infinity) : nonSpaceCount(ours) / theirs,
    overlap: cjk ? letterF1(ours, reference) : wordF1(ours, reference),
    letters: letterF1(ours, reference),
    cjk,
  };
}

export const meetsBar = (f: Fidelity): boolean => Math.abs(f.length - 1) <= MAX_LENGTH_DIFF && f.overlap >= MIN_OVERLAP;

/** An exception's characters are all there, within the length bar. */
export const lettersKept = (f: Fidelity): boolean => Math.abs(f.length - 1) <= MAX_LENGTH_DIFF && f.letters >= MIN_EXCEPTION_LETTERS;
