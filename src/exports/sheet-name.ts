// Kept apart from table-stream.ts, which loads exceljs: `ream rows` names its sheet with it
// before it knows whether it writes a workbook at all.

/** A name Excel accepts for a sheet: at most 31 characters, none of `[]:*?/\`. */
export function sheetName(name: string): string {
  return name.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'Sheet1';
}
