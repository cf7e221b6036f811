// Progress within a chunk. A chunk's pages count as done when its checkpoint is stored, and a
// chunk of 50 scans is a minute or more of OCR: without this, a job of scans showed no progress
// for that long. A chunk still running after an interval stores its pages read so far
// (`putChunkProgress`) and announces them, at most once an interval; a chunk that ends sooner (a
// text PDF's, nearly all) writes nothing more than before.
import type { PageReadListener } from '../formats/types.ts';

/** How long a chunk runs before its pages read count, and how often they are stored after that, in ms. */
export const CHUNK_PROGRESS_INTERVAL_MS = 2_000;

export interface ChunkProgress {
  /** Give it to the reader (`DocumentFormat.extract`). */
  readonly onPageRead: PageReadListener;
  /** The chunk is over: stops reporting and waits for a report under way. */
  settle(): Promise<void>;
}

/**
 * Counts the pages that `owns` (the chunk's own, not its overlap) as the reader says they are
 * done, and hands the count to `report` once the chunk has run `intervalMs`, then at most once
 * an interval (a last report follows the last page within one). A failed report is dropped: the
 * checkpoint counts the pages anyway.
 */
export function chunkProgress(
  report: (pagesRead: number) => Promise<void>, owns: (page: number) => boolean, intervalMs = CHUNK_PROGRESS_INTERVAL_MS,
): ChunkProgress {
  const read = new Set<number>();
  let lastAt = Date.now();
  let reported = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let settled = false;

  const send = (): void => {
    timer = undefined;
    if (settled || running || read.size === reported) return;
    lastAt = Date.now();
    reported = read.size;
    running = report(reported).catch(() => {}).finally(() => {
      running = undefined;
      // Pages done while it ran: their turn comes an interval after this one.
      if (read.size > reported) schedule();
    });
  };
  const schedule = (): void => {
    if (settled || timer) return;
    timer = setTimeout(send, Math.max(0, lastAt + intervalMs - Date.now()));
    timer.unref();
  };

  return {
    onPageRead(page) {
      if (!owns(page) || read.has(page)) return;
      read.add(page);
      schedule();
    },
    async settle() {
      settled = true;
      clearTimeout(timer);
      await running;
    },
  };
}
