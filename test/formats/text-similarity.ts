// How close two extractions of one document are, ignoring what legitimately differs between
// pdf.js and poppler: Unicode forms (poppler keeps Arabic presentation forms and ligatures,
// pdf.js folds them), bidi control marks poppler adds to RTL text, punctuation placement in
// mixed-direction lines, and line/paragraph layout. Both sides are NFKC-normalised first.

/** Multiset F1 of two bags: 1 when identical, 0 when disjoint (1 when both are empty). */
function f1(a: Iterable<string>, b: Iterable<string>): number {
  const counts = new Map<string, number>();
  let sizeA = 0;
  for (const x of a) {
    counts.set(x, (counts.get(x) ?? 0) + 1);
    sizeA++;
  }
  let sizeB = 0;
  let common = 0;
  for (const x of b) {
    sizeB++;
    const left = counts.get(x) ?? 0;
    if (left > 0) {
      common++;
      counts.set(x, left - 1);
    }
  }
  return sizeA + sizeB === 0 ? 1 : (2 * common) / (sizeA + sizeB);
}

/** Letters and digits only: catches lost or garbled text (a missing CMap drops whole glyph runs). */
export function letters(text: string): string[] {
  return [...text.normalize('NFKC').replace(/[^\p{L}\p{N}]/gu, '')];
}

/** Words as runs of letters, marks and digits: catches wrong word breaks (spaces lost or added). */
export function words(text: string): string[] {
  return text.normalize('NFKC').match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

export function letterF1(a: string, b: string): number {
  return f1(letters(a), letters(b));
}

export function wordF1(a: string, b: string): number {
  return f1(words(a), words(b));
}

/** Characters that are not whitespace, as they are (no normalisation). */
export function nonSpaceCount(text: string): number {
  return text.replace(/\s+/g, '').length;
}
