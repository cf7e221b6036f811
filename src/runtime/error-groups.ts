import type { ErrorGroupView } from '../api-types.ts';
import type { ReamEvent } from '../events/types.ts';
import type { Store } from '../store/port.ts';

/** Failure events read for one answer at most: a window with more says `truncated`. */
export const MAX_FAILURES_READ = 10_000;

export interface ErrorGroups {
  /** By count, the most frequent code first. */
  items: ErrorGroupView[];
  /** True when the window held more failures than were read ({@link MAX_FAILURES_READ}): counts are of the newest. */
  truncated: boolean;
}

const iso = (at: number): string => new Date(at).toISOString();

/**
 * The failed chunks and documents since `since`, of one tenant or all, grouped by error code:
 * how many, when first and last, and the newest one as a sample (its job, document and message).
 */
export async function errorGroups(store: Pick<Store, 'listFailureEvents' | 'getDocument'>, query: { tenantId?: string; since: number }): Promise<ErrorGroups> {
  const events = await store.listFailureEvents({ ...query, limit: MAX_FAILURES_READ });
  const groups = new Map<string, { count: number; firstAt: number; newest: ReamEvent }>();
  for (const event of events) {
    const code = event.error?.code ?? 'internal';
    const group = groups.get(code);
    // Newest first: the first event of a code is its sample, the last its first time.
    if (group === undefined) groups.set(code, { count: 1, firstAt: event.at, newest: event });
    else {
      group.count++;
      group.firstAt = event.at;
    }
  }
  const items: ErrorGroupView[] = [];
  for (const [code, { count, firstAt, newest }] of groups) {
    const documentId = newest.documentId ?? null;
    const doc = documentId === null ? undefined : await store.getDocument(documentId);
    items.push({
      code, count, firstAt: iso(firstAt), lastAt: iso(newest.at),
      sample: {
        tenantId: newest.tenantId,
        jobId: newest.jobId,
        documentId,
        documentName: doc?.name ?? null,
        pages: newest.chunk ? { first: newest.chunk.from + 1, last: newest.chunk.to } : null,
        message: newest.error?.message ?? newest.message ?? '',
        at: iso(newest.at),
      },
    });
  }
  items.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { items, truncated: events.length >= MAX_FAILURES_READ };
}
