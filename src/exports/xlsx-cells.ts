// What an XLSX sheet can hold, for every writer of one (the HTTP download, `ream rows --out
// x.xlsx`): the same cut, the same mark, the same refusal. No exceljs here: the CLI loads it
// only when it writes an .xlsx.
import { ReamError } from '../errors.ts';
import type { CellValue } from '../formats/types.ts';

/** Excel refuses a cell longer than this; a longer page text is cut, and says so. */
export const XLSX_MAX_CELL_CHARS = 32_767;
const CUT_MARK = ' […]';
/** Excel's sheets have at most this many columns (XFD). */
export const XLSX_MAX_COLUMNS = 16_384;
/**
 * What an XLSX cell cannot hold, as the sheet is XML 1.0 (§2.2 Char): a C0 control but tab, line
 * feed and carriage return, U+FFFE and U+FFFF, a lone surrogate; and DEL, which exceljs leaves
 * out. Left in, the first kind made exceljs drop them unsaid and the others a file no reader opens.
 */
// eslint-disable-next-line no-control-regex -- control characters are what is found
const NOT_IN_XLSX = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A cell as an XLSX holds it: without the characters it cannot hold (`onDropped` hears of a cell
 * that had some), and cut to {@link XLSX_MAX_CELL_CHARS} ending ` […]` when longer.
 */
export function xlsxCell(cell: CellValue, onDropped?: () => void): CellValue {
  if (typeof cell !== 'string') return cell;
  let text = cell;
  NOT_IN_XLSX.lastIndex = 0;
  if (NOT_IN_XLSX.test(text)) {
    text = text.replace(NOT_IN_XLSX, '');
    onDropped?.();
  }
  if (text.length <= XLSX_MAX_CELL_CHARS) return text;
  // Not between the two halves of a character written as a surrogate pair: a lone half is no XML.
  let end = XLSX_MAX_CELL_CHARS - CUT_MARK.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}${CUT_MARK}`;
}

/** `resource_limit` for a table wider than an XLSX sheet can be. */
export function tooWideForXlsx(columns: number): ReamError {
  return ReamError.nonRetryable('resource_limit', `the table has ${columns} columns; an .xlsx sheet holds at most ${XLSX_MAX_COLUMNS}: write .csv or .jsonl instead`, {
    details: { limit: XLSX_MAX_COLUMNS, columns },
  });
}
