// Search filters: what they mean, how they are checked, and how the HTTP query's strings become
// them. Shared by both index adapters (the same rules on SQLite and PostgreSQL) and the route.
import { SEARCH_TYPE_FAMILIES, type SearchTypeFamily } from '../api-types.ts';
import { ReamError } from '../errors.ts';
import type { SearchFilters } from './port.ts';

/**
 * Field names and values longer than this are not recorded for filtering: nobody types them
 * whole, and a key stays well under PostgreSQL's btree entry limit (about 2.7 kB).
 */
export const MAX_FIELD_VALUE_LENGTH = 200;
/** Field filters in one search: each is a join, so they are capped. */
export const MAX_FIELD_FILTERS = 10;
const DAY_MS = 86_400_000;

/** What a family stands for: exact media types, or every type under a prefix. */
export type MediaTypeMatch = { exact: readonly string[] } | { prefix: string };

const FAMILIES: Readonly<Record<SearchTypeFamily, MediaTypeMatch>> = {
  pdf: { exact: ['application/pdf'] },
  image: { prefix: 'image/' },
  sheet: { exact: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'text/csv'] },
  word: { exact: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'] },
  html: { exact: ['text/html'] },
  text: { exact: ['text/plain', 'text/markdown'] },
  email: { exact: ['message/rfc822'] },
};

const invalid = (message: string): ReamError => ReamError.nonRetryable('validation_failed', message);

/** How names and values are compared: Unicode-normalized, trimmed, lower-cased ("case-insensitive exact"). */
export function fieldKey(text: string): string {
  return text.normalize('NFC').trim().toLowerCase();
}

/**
 * The rule of `type`: with a `/` it is one exact media type (case-insensitive); without, one of
 * SEARCH_TYPE_FAMILIES. Anything else is refused, naming the families.
 */
export function mediaTypeMatch(type: string): MediaTypeMatch {
  const lower = type.trim().toLowerCase();
  if (lower.includes('/')) return { exact: [lower] };
  if ((SEARCH_TYPE_FAMILIES as readonly string[]).includes(lower)) return FAMILIES[lower as SearchTypeFamily];
  throw invalid(`type must be a media type (application/pdf) or one of ${SEARCH_TYPE_FAMILIES.join(', ')} (got ${JSON.stringify(type)})`);
}

/** True when any filter is given. */
export function hasFilters(filters: SearchFilters | undefined): filters is SearchFilters {
  if (filters === undefined) return false;
  const { jobId, mediaType, from, to, fields } = filters;
  return jobId !== undefined || mediaType !== undefined || from !== undefined || to !== undefined || (fields?.length ?? 0) > 0;
}

/** Refuses filters that cannot mean anything (the port's own check: the route parses before). */
export function checkFilters(filters: SearchFilters): void {
  if (filters.jobId !== undefined && filters.jobId.trim() === '') throw invalid('job must not be empty');
  if (filters.mediaType !== undefined) mediaTypeMatch(filters.mediaType);
  for (const [name, at] of [['from', filters.from], ['to', filters.to]] as const) {
    if (at !== undefined && !Number.isSafeInteger(at)) throw invalid(`${name} must be a time in epoch milliseconds`);
  }
  if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to) throw invalid('from must not be after to');
  if ((filters.fields?.length ?? 0) > MAX_FIELD_FILTERS) throw invalid(`at most ${MAX_FIELD_FILTERS} field filters`);
  for (const field of filters.fields ?? []) {
    if (fieldKey(field.name) === '') throw invalid('a field filter needs a name');
    if (fieldKey(field.value) === '') throw invalid(`field ${field.name} needs a value`);
  }
}

/** The field values of a result as recorded: keyed, deduplicated, the too-long ones left out. */
export function recordedFieldValues(fields: Readonly<Record<string, ReadonlyArray<{ value: string }>>>): Array<{ name: string; value: string }> {
  const seen = new Map<string, { name: string; value: string }>();
  for (const [name, matches] of Object.entries(fields)) {
    if (name.length > MAX_FIELD_VALUE_LENGTH) continue;
    for (const match of matches) {
      if (typeof match.value !== 'string' || match.value.length > MAX_FIELD_VALUE_LENGTH) continue;
      const entry = { name: fieldKey(name), value: fieldKey(match.value) };
      if (entry.name !== '' && entry.value !== '') seen.set(`${entry.name}\u0000${entry.value}`, entry);
    }
  }
  return [...seen.values()];
}

const EPOCH_MS = /^\d{1,16}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A time as the API takes it: epoch milliseconds (digits), an ISO date (`2026-12-01`, a whole
 * UTC day: its start for `from`, its last millisecond for `to`) or an ISO date-time with a zone.
 */
export function parseSearchTime(name: 'from' | 'to', text: string): number {
  const trimmed = text.trim();
  const day = DATE_ONLY.exec(trimmed);
  let at = Number.NaN;
  if (EPOCH_MS.test(trimmed)) at = Number(trimmed);
  else if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = Date.UTC(year, month - 1, date);
    // Date.UTC rolls 2026-02-31 over into March: such a date is refused, not moved.
    if (new Date(start).getUTCDate() === date && new Date(start).getUTCMonth() === month - 1) at = name === 'to' ? start + DAY_MS - 1 : start;
  } else if (DATE_TIME.test(trimmed)) {
    // Date.parse rolls a day that does not exist (2026-02-31T00:00Z) into the next month: refused, as for a date alone.
    const [year, month, date] = trimmed.slice(0, 10).split('-').map(Number) as [number, number, number];
    const calendar = new Date(Date.UTC(year, month - 1, date));
    if (calendar.getUTCDate() === date && calendar.getUTCMonth() === month - 1) at = Date.parse(trimmed);
  }
  if (!Number.isSafeInteger(at)) throw invalid(`${name} must be an ISO date (2026-12-01), an ISO date-time with a zone (2026-12-01T08:00:00Z) or epoch milliseconds (got ${JSON.stringify(text)})`);
  return at;
}

/** The filters of `GET /v1/search` (`job`, `type`, `from`, `to`, repeatable `field=name:value`), checked. */
export function parseSearchFilters(query: { job?: string; type?: string; from?: string; to?: string; field?: string | readonly string[] }): SearchFilters {
  const filters: { -readonly [K in keyof SearchFilters]: SearchFilters[K] } = {};
  if (query.job !== undefined && query.job !== '') filters.jobId = query.job.trim();
  if (query.type !== undefined && query.type !== '') filters.mediaType = query.type.trim();
  if (query.from !== undefined && query.from !== '') filters.from = parseSearchTime('from', query.from);
  if (query.to !== undefined && query.to !== '') filters.to = parseSearchTime('to', query.to);
  const raw = query.field === undefined ? [] : typeof query.field === 'string' ? [query.field] : query.field;
  const fields = raw.map((pair) => {
    const colon = pair.indexOf(':');
    if (colon < 0) throw invalid(`field must be name:value, e.g. field=invoice:INV-2 (got ${JSON.stringify(pair)})`);
    return { name: pair.slice(0, colon), value: pair.slice(colon + 1) };
  });
  if (fields.length > 0) filters.fields = fields;
  checkFilters(filters);
  return filters;
}
