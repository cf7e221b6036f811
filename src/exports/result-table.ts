// The flat table a job's or a document's results download as (CSV, XLSX): one row per page (a
// table's row), a column per extracted field, and the failure of that page. Rows are read from
// the chunk checkpoints one chunk at a time, so a result of 100,000 rows is written with memory
// for one chunk; only the header needs the (small) document results first.
import type { DocumentPageResult } from '../api-types.ts';
import { columnNames } from '../formats/sheet/cells.ts';
import type { CellValue } from '../formats/types.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import { ownValue } from '../own-keys.ts';

/** Several values of one field on one page (a rule with `all`) share its cell, joined by this. */
export const VALUES_JOINER = '; ';

export interface ResultTable {
  /** Column names, unique (a field named like an input column gets `_2`). */
  header: string[];
  /** The rows in order, each as long as the header. */
  rows: AsyncIterable<CellValue[]>;
}

/** Where the table's rows come from: the ended documents' results, and each one's pages. */
export interface ResultSource {
  outputs(): AsyncIterable<DocumentOutput>;
  pages(documentId: string): AsyncIterable<DocumentPageResult>;
}

/** A document read as a table (CSV, XLSX): its result names the input columns. */
function isTable(output: DocumentOutput): boolean {
  return output.metadata?.columns !== undefined;
}

/** The columns the documents' rows fill, gathered in first-seen order. */
interface Layout {
  /** The job-wide table names each row's document in a first column. */
  withDocument: boolean;
  columns: string[];
  /** A `text` column, when some document is not a table (its pages have text, not cells). */
  withText: boolean;
  fields: string[];
}

function addAll(into: string[], seen: Set<string>, names: Iterable<string>): void {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    into.push(name);
  }
}

/** Gathers the columns and fields of each result given to `add`, keeping nothing else of it. */
class LayoutBuilder {
  readonly layout: Layout;
  /** True while every document seen is a table. */
  allTables = true;
  private readonly columns = new Set<string>();
  private readonly fields = new Set<string>();

  constructor(withDocument: boolean) {
    this.layout = { withDocument, columns: [], withText: false, fields: [] };
  }

  add(output: DocumentOutput): void {
    if (isTable(output)) addAll(this.layout.columns, this.columns, output.metadata?.columns ?? []);
    else {
      this.layout.withText = true;
      this.allTables = false;
    }
    addAll(this.layout.fields, this.fields, Object.keys(output.fields));
  }
}

function headerOf(layout: Layout, allTables: boolean): string[] {
  return columnNames([
    ...(layout.withDocument ? ['document'] : []),
    // A table's pages are its data rows: "row" says so when every document is a table.
    allTables ? 'row' : 'page',
    ...layout.columns,
    ...(layout.withText ? ['text'] : []),
    ...layout.fields,
    'error_code',
    'error_message',
  ]);
}

function pageRow(layout: Layout, output: DocumentOutput, { page, read, fields, failure }: DocumentPageResult): CellValue[] {
  return [
    ...(layout.withDocument ? [output.source] : []),
    page,
    // Own keys only (own-keys.ts): a document without a `toString` column has no such cell.
    ...layout.columns.map((column) => ownValue(read?.cells, column) ?? null),
    ...(layout.withText ? [isTable(output) ? null : (read?.text ?? null)] : []),
    ...layout.fields.map((name) => ownValue(fields, name)?.map((match) => match.value).join(VALUES_JOINER) ?? null),
    failure?.code ?? null,
    failure?.message ?? null,
  ];
}

/** A document that failed before any page was read has no page rows: one row says why. */
function documentErrorRow(layout: Layout, output: DocumentOutput): CellValue[] {
  const empty = layout.columns.length + (layout.withText ? 1 : 0) + layout.fields.length;
  return [...(layout.withDocument ? [output.source] : []), null, ...new Array<null>(empty).fill(null), output.error?.code ?? null, output.error?.message ?? null];
}

async function* documentRows(layout: Layout, output: DocumentOutput, pages: AsyncIterable<DocumentPageResult>): AsyncGenerator<CellValue[]> {
  let rows = 0;
  for await (const page of pages) {
    rows++;
    yield pageRow(layout, output, page);
  }
  if (rows === 0 && output.error) yield documentErrorRow(layout, output);
}

/** One document's table: `page` (or `row`), its columns or `text`, its fields, the page's failure. */
export function documentTable(output: DocumentOutput, pages: AsyncIterable<DocumentPageResult>): ResultTable {
  const builder = new LayoutBuilder(false);
  builder.add(output);
  return { header: headerOf(builder.layout, builder.allTables), rows: documentRows(builder.layout, output, pages) };
}

/**
 * The whole job's table: the rows of every ended document in input order, each led by its
 * document's name, under the union of their columns and fields. The results are read twice (the
 * header first), never held: a result with many pages omits them (`pagesOmitted`).
 */
export async function jobTable(source: ResultSource): Promise<ResultTable> {
  const builder = new LayoutBuilder(true);
  // A document that ends between the two reads is left out: the header does not know its columns.
  const ended = new Set<string>();
  for await (const output of source.outputs()) {
    builder.add(output);
    ended.add(output.documentId);
  }
  const { layout } = builder;
  async function* rows(): AsyncGenerator<CellValue[]> {
    for await (const output of source.outputs()) {
      if (ended.has(output.documentId)) yield* documentRows(layout, output, source.pages(output.documentId));
    }
  }
  return { header: headerOf(layout, ended.size > 0 && builder.allTables), rows: rows() };
}
