// A table result's rows as a view: filtered by text and sorted by one column, over rows that are
// read from their checkpoints one chunk at a time. What is kept is one int per matching row (its
// row number), plus, while a sort is being built, one short key per matching row.
import type { DocumentPageResult, RowViewQuery } from '../api-types.ts';
import { ReamError } from '../errors.ts';
import type { CellValue } from '../formats/types.ts';
import { ownValue } from '../own-keys.ts';
import { VALUES_JOINER } from './result-table.ts';

/** A column of the rows view: the row number, an input column, an extracted field, the row's failure. */
export type RowColumn = { kind: 'row' } | { kind: 'cell'; name: string } | { kind: 'field'; name: string } | { kind: 'error' };

/**
 * A sort keeps one key per matching row while it reads them; a longer text is compared on its
 * first this many characters only, so a row costs ~100 bytes whatever its cells hold.
 */
const SORT_KEY_CHARS = 64;
/**
 * Rows a sort orders at most (a filter alone has no limit: it keeps 4 bytes per match). Past it
 * the keys would hold tens of MB per request; a filter that narrows the rows first is the way.
 */
export const MAX_SORTED_ROWS = 250_000;

/** `row`, `error`, `cells.<input column>` or `fields.<field name>`: how the API names a column. */
export function parseRowColumn(text: string): RowColumn {
  if (text === 'row') return { kind: 'row' };
  if (text === 'error') return { kind: 'error' };
  if (text.startsWith('cells.') && text.length > 'cells.'.length) return { kind: 'cell', name: text.slice('cells.'.length) };
  if (text.startsWith('fields.') && text.length > 'fields.'.length) return { kind: 'field', name: text.slice('fields.'.length) };
  throw ReamError.nonRetryable('validation_failed', `unknown column ${JSON.stringify(text)}: use row, error, cells.<input column> or fields.<field name>`);
}

/** The value a row shows in `column`: its cell, its field's values joined, its failure's code. */
function rowValue(page: DocumentPageResult, column: RowColumn): CellValue {
  switch (column.kind) {
    case 'row':
      return page.page;
    case 'cell':
      // Own keys only: `cells.toString` names a column, not Object.prototype's member (own-keys.ts).
      return ownValue(page.read?.cells, column.name) ?? null;
    case 'field':
      return ownValue(page.fields, column.name)?.map((match) => match.value).join(VALUES_JOINER) ?? null;
    case 'error':
      return page.failure?.code ?? null;
  }
}

/** Everything a row shows, for a filter over any column. */
function rowTexts(page: DocumentPageResult): string[] {
  const texts = [String(page.page)];
  for (const value of Object.values(page.read?.cells ?? {})) if (value !== null) texts.push(String(value));
  for (const matches of Object.values(page.fields)) for (const match of matches) texts.push(match.value);
  if (page.failure) texts.push(page.failure.code, page.failure.message);
  return texts;
}

/** The checked query: `undefined` when it neither sorts nor filters (rows stay in their order). */
export interface RowOrder {
  sort?: RowColumn;
  descending: boolean;
  filter?: { column?: RowColumn; text: string };
}

export function rowOrder(query: RowViewQuery): RowOrder | undefined {
  const filterText = query.filter?.trim().toLowerCase() ?? '';
  if (query.filterBy !== undefined && filterText === '') throw ReamError.nonRetryable('validation_failed', '"filterBy" needs a "filter" text');
  if (query.sort === undefined && filterText === '') return undefined;
  return {
    ...(query.sort === undefined ? {} : { sort: parseRowColumn(query.sort) }),
    descending: query.order === 'desc',
    ...(filterText === '' ? {} : { filter: { text: filterText, ...(query.filterBy === undefined ? {} : { column: parseRowColumn(query.filterBy) }) } }),
  };
}

function matches(page: DocumentPageResult, filter: NonNullable<RowOrder['filter']>): boolean {
  if (filter.column === undefined) return rowTexts(page).some((text) => text.toLowerCase().includes(filter.text));
  if (filter.column.kind === 'error') return `${page.failure?.code ?? ''} ${page.failure?.message ?? ''}`.toLowerCase().includes(filter.text);
  const value = rowValue(page, filter.column);
  return value !== null && String(value).toLowerCase().includes(filter.text);
}

/** A number for numbers and numeric text (a CSV's cells are text), else the text cut short; null when empty. */
type SortKey = number | string | null;

function sortKey(value: CellValue): SortKey {
  if (value === null) return null;
  if (typeof value === 'number') return value;
  const text = String(value).trim();
  if (text === '') return null;
  const number = Number(text);
  return Number.isFinite(number) ? number : text.slice(0, SORT_KEY_CHARS);
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Numbers before text, in either order; empty cells last whatever the order. */
function compareKeys(a: SortKey, b: SortKey, descending: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const sign = descending ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return sign * (a - b);
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return sign * collator.compare(a, b);
}

/**
 * The row numbers of the view, in its order: one pass over `pages` (every row, one checkpoint at a
 * time). Ties keep their row order, so a window read twice is the same window.
 */
export async function orderRows(pages: AsyncIterable<DocumentPageResult> | Iterable<DocumentPageResult>, order: RowOrder): Promise<Int32Array> {
  const rows: number[] = [];
  const keys: SortKey[] = [];
  for await (const page of pages) {
    if (order.filter && !matches(page, order.filter)) continue;
    rows.push(page.page);
    if (order.sort) {
      if (rows.length > MAX_SORTED_ROWS) {
        throw ReamError.nonRetryable('resource_limit', `a sort orders at most ${MAX_SORTED_ROWS} rows: filter the rows first`, { details: { limit: MAX_SORTED_ROWS } });
      }
      keys.push(sortKey(rowValue(page, order.sort)));
    }
  }
  if (!order.sort) return Int32Array.from(rows);
  const positions = Array.from(rows.keys());
  const { descending } = order;
  positions.sort((a, b) => compareKeys(keys[a] ?? null, keys[b] ?? null, descending) || a - b);
  return Int32Array.from(positions, (position) => rows[position] ?? 0);
}
