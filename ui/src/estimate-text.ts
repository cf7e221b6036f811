import type { JobEstimateView } from '@client';
import { plural } from './format.ts';

/**
 * The New job page's estimate line: "This job reserves N pages (M counted), R rows, X credits of
 * your Y." Files still uploading and documents the server could not count are a page each.
 * `names` gives the file name of a stored document, to name one that was not counted.
 */
export function estimateText(estimate: JobEstimateView, uploading: number, names: ReadonlyMap<string, string>): string {
  const notes: string[] = [];
  if (estimate.pagesCounted !== undefined) notes.push(`${estimate.pagesCounted} counted`);
  if (uploading > 0) notes.push(`${plural(uploading, 'file')} still uploading: one page each until counted`);
  const uncounted = estimate.documentsNotCounted ?? [];
  if (uncounted.length > 0) {
    const named = uncounted.map((item) => `${names.get(item.documentId) ?? item.documentId} (${item.code})`).join(', ');
    notes.push(`not counted, one page each: ${named}`);
  }
  if (estimate.pagesCounted === undefined && uploading === 0) notes.push('one per file until they are read');
  let text = `This job reserves ${plural(estimate.pages, 'page')}${notes.length === 0 ? '' : ` (${notes.join('; ')})`}`;
  if (estimate.rows !== undefined) text += `, ${plural(estimate.rows, 'row')}`;
  if (estimate.priced) text += `, ${plural(estimate.credits, 'credit')} of your ${estimate.balance}${estimate.credits > estimate.balance ? ': not enough' : ''}`;
  return `${text}.`;
}
