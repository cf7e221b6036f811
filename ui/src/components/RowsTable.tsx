import type { DocumentPageResult, ReamClient } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { plural } from '../format.ts';
import { useRowWindows, type RowView } from '../row-windows.ts';
import { useVirtualList } from '../virtual.ts';
import { ErrorText } from './common.tsx';

/** Must match `.rows-table tbody tr` in style.css: the list is laid out by this height. */
const ROW_HEIGHT = 36;
/** Typing settles this long before the server is asked to filter 100,000 rows again. */
const FILTER_DELAY_MS = 300;

interface Column {
  /** How the API names it: `row`, `cells.<name>`, `fields.<name>`, `error`. */
  key: string;
  label: string;
  value(row: DocumentPageResult): string;
}

/** `record[name]` if the record has it itself: a column or field named `constructor` is not Object's. */
function own<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record && Object.hasOwn(record, name) ? record[name] : undefined;
}

function columnsOf(inputs: readonly string[], fields: readonly string[]): Column[] {
  return [
    { key: 'row', label: 'Row', value: (row) => String(row.page) },
    ...inputs.map((name) => ({ key: `cells.${name}`, label: name, value: (row: DocumentPageResult) => String(own(row.read?.cells, name) ?? '') })),
    ...fields.map((name) => ({ key: `fields.${name}`, label: name, value: (row: DocumentPageResult) => (own(row.fields, name) ?? []).map((match) => match.value).join('; ') })),
    { key: 'error', label: 'Error', value: (row) => (row.failure ? `${row.failure.code}: ${row.failure.message}` : '') },
  ];
}

type AriaSort = 'ascending' | 'descending' | 'none';

/** Ascending, then descending, then back to row order. */
function nextSort(view: RowView, key: string): Pick<RowView, 'sort' | 'order'> {
  if (view.sort !== key) return { sort: key, order: 'asc' };
  return view.order === 'asc' ? { sort: key, order: 'desc' } : { sort: undefined, order: 'asc' };
}

/**
 * A table result's rows, virtualised: only the rows in view are in the DOM, fetched a window at
 * a time as they scroll in, so 100,000 rows scroll like 100 (and a million reach their last row,
 * on a scale: scroll-scale.ts). Columns: the row number, the input
 * columns, the extracted fields, the row's failure. Header buttons sort on the server (every
 * row, not the loaded ones); the filter keeps rows whose chosen column (or any) holds the text.
 * Every value is rendered as text.
 */
export function RowsTable({ client, jobId, documentId, inputs, fields, reportRows, onReport }: {
  client: ReamClient;
  jobId: string;
  documentId: string;
  inputs: readonly string[];
  fields: readonly string[];
  /** The rows a report was rendered from: their number is a button that shows it (`onReport`); `any`: not all are listed, every row's is. */
  reportRows?: ReadonlySet<number> | 'any';
  onReport?: (row: number) => void;
}) {
  const columns = columnsOf(inputs, fields);
  const [view, setView] = useState<RowView>({ sort: undefined, order: 'asc', filter: '', filterBy: '' });
  const [typed, setTyped] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setView((current) => (current.filter === typed ? current : { ...current, filter: typed })), FILTER_DELAY_MS);
    return () => clearTimeout(timer);
  }, [typed]);
  const { total, error, rowAt, need } = useRowWindows(client, jobId, documentId, view);
  const count = total ?? 0;
  const { scrollRef, virtualizer, layoutHeight, layoutStart } = useVirtualList(count, ROW_HEIGHT);
  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  useEffect(() => {
    if (first !== undefined && last !== undefined) need(first.index, last.index);
  }, [first?.index, last?.index, need]);
  // A new sort or filter starts at the top.
  useEffect(() => virtualizer.scrollToOffset(0), [view]);

  const ariaSort = (key: string): AriaSort => (view.sort !== key ? 'none' : view.order === 'asc' ? 'ascending' : 'descending');
  // Spacers above and below the rows in the DOM, in laid-out pixels (scaled past MAX_SCROLL_PX).
  const padTop = first === undefined ? 0 : Math.max(0, layoutStart(first.start));
  const padBottom = last === undefined ? 0 : Math.max(0, layoutHeight - padTop - (last.end - (first?.start ?? 0)));

  return (
    <div class="rows-view">
      <div class="row-filter" role="search" aria-label="Filter rows">
        <label for="row-filter-column">Filter</label>
        <select id="row-filter-column" value={view.filterBy} onChange={(event) => setView({ ...view, filterBy: event.currentTarget.value })}>
          <option value="">any column</option>
          {columns.map((column) => (
            <option key={column.key} value={column.key}>
              {column.label}
            </option>
          ))}
        </select>
        <input id="row-filter-text" type="search" aria-label="Text the rows contain" placeholder="contains…" value={typed} onInput={(event) => setTyped(event.currentTarget.value)} />
      </div>
      <ErrorText message={error} id="rows-error" />
      <p class="count" id="rows-count" aria-live="polite">
        {total === undefined ? 'Loading rows…' : `${plural(total, 'row')}${view.filter.trim() === '' ? '' : total === 1 ? ' matches' : ' match'}`}
      </p>
      <div ref={scrollRef} class="virtual rows-scroll" role="region" aria-label="Rows" tabIndex={0}>
        <table class="rows-table" aria-rowcount={count + 1}>
          <thead>
            <tr aria-rowindex={1}>
              {columns.map((column) => (
                <th key={column.key} scope="col" aria-sort={ariaSort(column.key)}>
                  <button type="button" class="sort" onClick={() => setView({ ...view, ...nextSort(view, column.key) })}>
                    {column.label}
                    <span aria-hidden="true">{ariaSort(column.key) === 'ascending' ? ' ▲' : ariaSort(column.key) === 'descending' ? ' ▼' : ''}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {padTop > 0 ? (
              <tr class="spacer" aria-hidden="true">
                <td colSpan={columns.length} style={{ height: `${padTop}px` }} />
              </tr>
            ) : null}
            {items.map((item) => {
              const row = rowAt(item.index);
              return (
                <tr key={item.index} aria-rowindex={item.index + 2} data-row={row?.page} class={row?.failure ? 'failed' : undefined}>
                  {columns.map((column) => {
                    const text = row === undefined ? '' : column.value(row);
                    const report = column.key === 'row' && row !== undefined && onReport !== undefined && (reportRows === 'any' || reportRows?.has(row.page) === true);
                    return (
                      <td key={column.key} title={text.length > 40 ? text : undefined}>
                        {report ? (
                          <button type="button" class="link" aria-label={`Show the report of row ${text}`} onClick={() => onReport(row.page)}>
                            {text}
                          </button>
                        ) : row === undefined && column.key === 'row' ? '…' : text}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
            {padBottom > 0 ? (
              <tr class="spacer" aria-hidden="true">
                <td colSpan={columns.length} style={{ height: `${padBottom}px` }} />
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}
