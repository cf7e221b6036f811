import type { JsonObject, JsonValue } from '../../../json.ts';
import type { FieldMatch } from '../../port.ts';
import type { PartScope } from './types.ts';

/** Where an answer came from: the pages (numbers of the markers) and a verbatim quote. */
export const SOURCE_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    pages: { type: 'array', items: { type: 'integer' } },
    quote: { type: 'string' },
  },
  required: ['pages', 'quote'],
};

export interface Source {
  pages: number[];
  quote: string;
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The pages of a source that the chunk saw (a model may name a page it was not shown), or
 * `undefined` when the source lies wholly on pages the chunk does not own: the chunk that owns
 * them sees the same text and reports it, so keeping both would list it twice.
 */
export function ownedSource(raw: JsonValue | undefined, scope: PartScope): Source | undefined {
  const seen = new Set(scope.pages.map((page) => page.page));
  const source = isObject(raw) ? raw : {};
  const pages = (Array.isArray(source.pages) ? source.pages : [])
    .filter((page): page is number => typeof page === 'number' && seen.has(page));
  const unique = [...new Set(pages)].sort((a, b) => a - b);
  if (unique.length > 0 && !unique.some(scope.owns)) return undefined;
  // No usable page: the first page the chunk owns stands for the chunk.
  const fallback = scope.pages.map((page) => page.page).filter(scope.owns).sort((a, b) => a - b)[0];
  return { pages: unique.length > 0 ? unique : fallback === undefined ? [] : [fallback], quote: typeof source.quote === 'string' ? source.quote : '' };
}

/** One field match for a value with its source. */
export function match(value: JsonValue, source: Source | undefined, firstPage: number): FieldMatch {
  const pages = source?.pages ?? [];
  return {
    value: typeof value === 'string' ? value : JSON.stringify(value),
    page: pages[0] ?? firstPage,
    ...(pages.length > 0 ? { pages } : {}),
    ...(source?.quote ? { quote: source.quote } : {}),
  };
}

export function sourceOf(value: JsonValue | undefined): Source | undefined {
  if (!isObject(value) || !Array.isArray(value.pages)) return undefined;
  return { pages: value.pages.filter((page): page is number => typeof page === 'number'), quote: typeof value.quote === 'string' ? value.quote : '' };
}

/** Lines "Pages a–b: text" for a reduce prompt. */
export function partsList(parts: ReadonlyArray<{ firstPage: number; lastPage: number; text: string }>): string {
  return parts.map((part) => `Pages ${part.firstPage}–${part.lastPage}:\n${part.text}`).join('\n\n');
}
