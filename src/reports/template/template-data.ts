import type { CellValue } from '../../formats/types.ts';

/** What a template sees: a row's cells by column name (or a document's fields). */
export interface TemplateData {
  [name: string]: CellValue | CellValue[] | TemplateData;
}
