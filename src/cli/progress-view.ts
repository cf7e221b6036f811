import cliProgress from 'cli-progress';
import type { ResultLine } from './results-file.ts';

export interface ProgressSnapshot {
  documentsDone: number;
  documentsTotal: number;
  pagesDone: number;
  pagesTotal: number;
  etaSeconds: number | null;
}

/** How a run shows progress: a bar on a terminal, plain lines in logs and pipes, or nothing. */
export interface ProgressView {
  update(snapshot: ProgressSnapshot): void;
  documentEnded(line: ResultLine): void;
  stop(): void;
}

function formatEta(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

class BarView implements ProgressView {
  readonly #bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {percentage}% | {docs} docs | {pagesDone}/{pagesTotal} pages | {rate} pages/s | ETA {etaText} | failed {failed}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  readonly #started = Date.now();
  #failed = 0;
  #last: ProgressSnapshot = { documentsDone: 0, documentsTotal: 0, pagesDone: 0, pagesTotal: 0, etaSeconds: null };

  constructor() {
    this.#bar.start(1, 0, this.#payload());
  }

  #payload(): Record<string, string | number> {
    const s = this.#last;
    const seconds = (Date.now() - this.#started) / 1000;
    return {
      docs: `${s.documentsDone}/${s.documentsTotal}`,
      pagesDone: s.pagesDone,
      pagesTotal: s.pagesTotal,
      rate: seconds > 0 ? Math.round(s.pagesDone / seconds) : 0,
      etaText: formatEta(s.etaSeconds),
      failed: this.#failed,
    };
  }

  update(snapshot: ProgressSnapshot): void {
    this.#last = snapshot;
    // Pages when known (the bar moves page by page), documents until then.
    const total = snapshot.pagesTotal > 0 ? snapshot.pagesTotal : Math.max(1, snapshot.documentsTotal);
    const value = snapshot.pagesTotal > 0 ? snapshot.pagesDone : snapshot.documentsDone;
    this.#bar.setTotal(total);
    this.#bar.update(value, this.#payload());
  }

  documentEnded(line: ResultLine): void {
    if (line.status === 'failed' || line.status === 'partially_succeeded') this.#failed++;
    this.#bar.update(this.#payload());
  }

  stop(): void {
    this.#bar.stop();
  }
}

/** One line per finished document, plus a progress line at most every 5 s: readable in CI logs. */
class LinesView implements ProgressView {
  #lastLineAt = 0;
  #done = 0;

  update(s: ProgressSnapshot): void {
    const now = Date.now();
    if (now - this.#lastLineAt < 5000) return;
    this.#lastLineAt = now;
    process.stderr.write(`progress: ${s.documentsDone}/${s.documentsTotal} documents, ${s.pagesDone}/${s.pagesTotal} pages, ETA ${formatEta(s.etaSeconds)}\n`);
  }

  documentEnded(line: ResultLine): void {
    this.#done++;
    const detail = line.error ? `${line.error.code}: ${line.error.message}` : `${line.pageCount ?? 0} pages`;
    process.stderr.write(`[${this.#done}] ${line.status} ${line.path} (${detail})\n`);
  }

  stop(): void {}
}

const silent: ProgressView = { update() {}, documentEnded() {}, stop() {} };

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export function createProgressView(mode: ProgressMode): ProgressView {
  if (mode === 'none') return silent;
  if (mode === 'bar' || (mode === 'auto' && process.stderr.isTTY)) return new BarView();
  return new LinesView();
}
