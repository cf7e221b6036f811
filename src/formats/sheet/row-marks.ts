// Marks of where a thread's reads of a table passed every MARK_EVERY-th data row, kept per file
// so that the next read of the same rows starts at the nearest mark (csv-index.ts for CSV,
// xlsx-index.ts for a workbook's sheets): a mark is whatever a format needs to resume there.

/** Rows between marks: 1,000 marks for a million rows, and never more than 1,000 rows re-parsed. */
export const MARK_EVERY = 1000;

/** The last of `marks` (in row order) at or before data row `from` (0-based, as page ranges are), if any. */
export function lastMarkBefore<M extends { rowsBefore: number }>(marks: readonly M[], from: number): M | undefined {
  let found: M | undefined;
  for (const mark of marks) {
    if (mark.rowsBefore > from) break;
    found = mark;
  }
  return found;
}

/** Keeps `mark` of data row `mark.rowsBefore` when it is a MARK_EVERY-th row past the last mark. */
export function noteMark<M extends { rowsBefore: number }>(marks: M[], mark: M): void {
  if (mark.rowsBefore % MARK_EVERY !== 0) return;
  const last = marks.at(-1);
  if (last === undefined || mark.rowsBefore > last.rowsBefore) marks.push(mark);
}
