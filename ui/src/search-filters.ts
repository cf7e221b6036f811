// The Search page's filters: kept in the hash route (so a reload or Back keeps them), and turned
// into the SDK's search options. Pure, so it is tested without a browser.
// A relative path, not the @client alias: the console's logic tests import this file under the main tsconfig.
import type { SearchOptions } from '../../src/client/index.ts';

/** The filters as the form and the hash hold them: '' is unset. */
export interface SearchFilterState {
  job: string;
  type: string;
  /** `YYYY-MM-DD` (a date input's value): the API reads it as a UTC day. */
  from: string;
  to: string;
  fieldName: string;
  fieldValue: string;
}

export const NO_FILTERS: SearchFilterState = { job: '', type: '', from: '', to: '', fieldName: '', fieldValue: '' };

/** Reads the filters from a hash query (`job`, `type`, `from`, `to`, `field=name:value`). */
export function filtersFromQuery(query: URLSearchParams): SearchFilterState {
  const field = query.get('field') ?? '';
  const colon = field.indexOf(':');
  return {
    job: query.get('job') ?? '',
    type: query.get('type') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    fieldName: colon < 0 ? '' : field.slice(0, colon),
    fieldValue: colon < 0 ? '' : field.slice(colon + 1),
  };
}

/** Adds the set filters to a hash query, in the API's own names. */
export function filtersToQuery(filters: Partial<SearchFilterState>, query: URLSearchParams): URLSearchParams {
  for (const key of ['job', 'type', 'from', 'to'] as const) {
    const value = filters[key]?.trim() ?? '';
    if (value !== '') query.set(key, value);
  }
  const name = filters.fieldName?.trim() ?? '';
  const value = filters.fieldValue?.trim() ?? '';
  if (name !== '' && value !== '') query.set('field', `${name}:${value}`);
  return query;
}

/** The set filters in words, as the API names them: `job j1, type pdf, from 2026-12-01`. */
export function describeFilters(filters: Partial<SearchFilterState>): string {
  return [...filtersToQuery(filters, new URLSearchParams())].map(([name, value]) => `${name} ${value}`).join(', ');
}

/** True when any filter is set (a field filter needs its name and its value). */
export function anyFilter(filters: Partial<SearchFilterState>): boolean {
  return filtersToQuery(filters, new URLSearchParams()).size > 0;
}

/** The SDK options of the set filters. */
export function searchOptionsOf(filters: Partial<SearchFilterState>): SearchOptions {
  const query = filtersToQuery(filters, new URLSearchParams());
  const options: SearchOptions = {};
  const job = query.get('job');
  const type = query.get('type');
  const from = query.get('from');
  const to = query.get('to');
  if (job !== null) options.jobId = job;
  if (type !== null) options.type = type;
  if (from !== null) options.from = from;
  if (to !== null) options.to = to;
  if (query.has('field')) options.fields = [[filters.fieldName?.trim() ?? '', filters.fieldValue?.trim() ?? '']];
  return options;
}
