import type { Fields, TokenUsage } from '../analyzers/port.ts';
import { addUsage } from '../analyzers/store/port.ts';
import type { JsonValue } from '../json.ts';
import { ownValue, setOwn } from '../own-keys.ts';
import type { ChunkOutput } from './merge.ts';

/**
 * The pages of a succeeded checkpoint to run again on a job retry: those that failed inside it
 * (a table's row whose model answer or report failed while its neighbours succeeded). Asked of
 * the checkpoint as it stands, so a repeated retry task redoes only what still fails.
 */
export function pagesToRedo(output: Pick<ChunkOutput, 'failures'>, asked?: readonly number[]): number[] {
  const failed = [...new Set(output.failures.map((failure) => failure.page))].sort((a, b) => a - b);
  return asked ? failed.filter((page) => asked.includes(page)) : failed;
}

/**
 * A checkpoint with some of its pages made again: everything `kept` said about the pages in
 * `redone` is replaced by what `fresh` (the output of those pages alone) says; every other
 * page's text, matches and failures stay as stored, so a row that succeeded is never analysed,
 * sent to a model or rendered twice. Tokens used add up (the first attempt was spent too).
 */
export function replacePages(kept: ChunkOutput, fresh: ChunkOutput, redone: ReadonlySet<number>): ChunkOutput {
  const stays = (item: { page: number }): boolean => !redone.has(item.page);
  const byPage = (a: { page: number }, b: { page: number }): number => a.page - b.page;
  const fields: Fields = {};
  for (const name of new Set([...Object.keys(kept.fields), ...Object.keys(fresh.fields)])) {
    // Own keys only: a field named `constructor` is one the other side may lack (own-keys.ts).
    setOwn(fields, name, [...(ownValue(kept.fields, name) ?? []).filter(stays), ...(ownValue(fresh.fields, name) ?? [])].sort(byPage));
  }
  const warnings = [...(kept.warnings ?? []).filter(stays), ...(fresh.warnings ?? [])].sort(byPage);
  const analyses = mergeAnalyses(kept.analyses ?? {}, fresh.analyses ?? {}, redone);
  return {
    pages: [...kept.pages.filter(stays), ...fresh.pages].sort(byPage),
    failures: [...kept.failures.filter(stays), ...fresh.failures].sort(byPage),
    ...(warnings.length > 0 ? { warnings } : {}),
    fields,
    ...(Object.keys(analyses).length > 0 ? { analyses } : {}),
  };
}

type Analyses = NonNullable<ChunkOutput['analyses']>;

/** Per analyzer: usage summed; data that is a list of per-row entries (reports) merged by row. */
function mergeAnalyses(kept: Analyses, fresh: Analyses, redone: ReadonlySet<number>): Analyses {
  const merged: Analyses = {};
  for (const name of new Set([...Object.keys(kept), ...Object.keys(fresh)])) {
    const before = ownValue(kept, name) ?? {};
    const after = ownValue(fresh, name) ?? {};
    const usage = sumUsage(before.usage, after.usage);
    const data = mergeData(before.data, after.data, redone);
    setOwn(merged, name, { ...(data === undefined ? {} : { data }), ...(usage ? { usage } : {}) });
  }
  return merged;
}

function sumUsage(a: TokenUsage | undefined, b: TokenUsage | undefined): TokenUsage | undefined {
  return a && b ? addUsage(a, b) : (a ?? b);
}

/**
 * Lists of entries naming their row (`{ row, … }`, a report per row) are merged row by row, the
 * fresh entry winning; any other data is the fresh run's when it has some.
 */
function mergeData(kept: JsonValue | undefined, fresh: JsonValue | undefined, redone: ReadonlySet<number>): JsonValue | undefined {
  if (!Array.isArray(kept) || !Array.isArray(fresh)) return fresh ?? kept;
  const rowOf = (entry: JsonValue): number | undefined =>
    typeof entry === 'object' && entry !== null && !Array.isArray(entry) && typeof entry.row === 'number' ? entry.row : undefined;
  const stays = kept.filter((entry) => {
    const row = rowOf(entry);
    return row === undefined || !redone.has(row);
  });
  return [...stays, ...fresh].sort((a, b) => (rowOf(a) ?? 0) - (rowOf(b) ?? 0));
}
