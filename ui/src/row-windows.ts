// The rows of a table result, fetched a window (200 rows) at a time as they scroll into view:
// the server sorts and filters, the console keeps a few windows around the ones shown.
import type { DocumentPageResult, ReamClient, RowViewQuery } from '@client';
import { useCallback, useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { messageOf } from './format.ts';

const WINDOW_ROWS = 200;
/** Windows kept: enough for a screen and a fast scroll back; 100,000 rows never sit in the page. */
const KEPT_WINDOWS = 20;

/** What the table shows: sorted by one column (or in row order), filtered by text in one column or any. */
export interface RowView {
  sort: string | undefined;
  order: 'asc' | 'desc';
  filter: string;
  /** '' for any column. */
  filterBy: string;
}

function queryOf(view: RowView): RowViewQuery {
  return {
    ...(view.sort === undefined ? {} : { sort: view.sort, order: view.order }),
    ...(view.filter.trim() === '' ? {} : { filter: view.filter.trim(), ...(view.filterBy === '' ? {} : { filterBy: view.filterBy }) }),
  };
}

interface Windows {
  /** The view these windows are of: an answer for another view is dropped. */
  key: string;
  loaded: Map<number, DocumentPageResult[]>;
  pending: Set<number>;
}

export function useRowWindows(client: ReamClient, jobId: string, documentId: string, view: RowView) {
  const key = JSON.stringify(queryOf(view));
  const windows = useRef<Windows>({ key: '', loaded: new Map(), pending: new Set() });
  const [total, setTotal] = useState<number | undefined>(undefined);
  const [error, setError] = useState('');
  const [, changed] = useReducer((n: number) => n + 1, 0);

  const load = useCallback((index: number) => {
    const mine = windows.current;
    if (mine.loaded.has(index) || mine.pending.has(index)) return;
    mine.pending.add(index);
    client.documentRows(jobId, documentId, { ...queryOf(view), offset: index * WINDOW_ROWS, limit: WINDOW_ROWS }).then(
      (window) => {
        if (windows.current !== mine) return;
        mine.pending.delete(index);
        mine.loaded.set(index, window.rows);
        for (const oldest of mine.loaded.keys()) {
          if (mine.loaded.size <= KEPT_WINDOWS) break;
          if (oldest !== index) mine.loaded.delete(oldest);
        }
        setTotal(window.total);
        setError('');
        changed(undefined);
      },
      (failure: unknown) => {
        if (windows.current !== mine) return;
        mine.pending.delete(index);
        setError(messageOf(failure));
      },
    );
  }, [client, jobId, documentId, key]);

  useEffect(() => {
    windows.current = { key, loaded: new Map(), pending: new Set() };
    setTotal(undefined);
    load(0);
  }, [load]);

  /** Asks for the windows rows `first`…`last` are in (the ones already there or on their way are not asked again). */
  const need = useCallback((first: number, last: number) => {
    for (let index = Math.floor(first / WINDOW_ROWS); index <= Math.floor(last / WINDOW_ROWS); index++) load(index);
  }, [load]);

  const rowAt = (index: number): DocumentPageResult | undefined => windows.current.loaded.get(Math.floor(index / WINDOW_ROWS))?.[index % WINDOW_ROWS];
  return { total, error, rowAt, need };
}
