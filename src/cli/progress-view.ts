import cliProgress from 'cli-progress';
import type { ResultLine } from './results-file.ts';
import { printable } from './printable.ts';

/**
 * What a run shows. Files rather than documents: the user named files (identical ones are one
 * document), and all of them are known before the first is stored. Pages are known only once a
 * file is stored and inspected, so while files are still being added the page total is partial.
 */
export interface ProgressSnapshot {
  filesDone: number;
  filesTotal: number;
  /** True while some files are not yet in the job: `pagesTotal` is still growing. */
  counting: boolean;
  pagesDone: number;
  pagesTotal: number;
  etaSeconds: number | null;
}

export const START_SNAPSHOT = { filesDone: 0, counting: true, pagesDone: 0, pagesTotal: 0, etaSeconds: null } as const;

/** What progress is counted in: pages, or rows for a table (whose pages are its rows). */
export type ProgressUnit = 'pages' | 'rows';

/** "12/340 pages", or "12 pages (counting)" while the total is not known yet. */
export function pagesText(s: ProgressSnapshot, unit: ProgressUnit = 'pages'): string {
  return s.counting || s.pagesTotal === 0 ? `${s.pagesDone} ${unit} (counting)` : `${s.pagesDone}/${s.pagesTotal} ${unit}`;
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
      format: ' {bar} {percentage}% | {files} files | {pages} | {rate} {unit}/s | ETA {etaText} | failed {failed}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  readonly #started = Date.now();
  #failed = 0;
  #last: ProgressSnapshot;
  readonly #unit: ProgressUnit;

  constructor(filesTotal: number, unit: ProgressUnit) {
    this.#unit = unit;
    this.#last = { ...START_SNAPSHOT, filesTotal };
    this.#bar.start(Math.max(1, filesTotal), 0, this.#payload());
  }

  #payload(): Record<string, string | number> {
    const s = this.#last;
    const seconds = (Date.now() - this.#started) / 1000;
    return {
      files: `${s.filesDone}/${s.filesTotal}`,
      pages: pagesText(s, this.#unit),
      unit: this.#unit,
      rate: seconds > 0 ? Math.round(s.pagesDone / seconds) : 0,
      etaText: formatEta(s.etaSeconds),
      failed: this.#failed,
    };
  }

  update(snapshot: ProgressSnapshot): void {
    this.#last = snapshot;
    // Pages once every file is in (the bar moves page by page), files until then.
    const byPages = !snapshot.counting && snapshot.pagesTotal > 0;
    const total = byPages ? snapshot.pagesTotal : Math.max(1, snapshot.filesTotal);
    const value = byPages ? snapshot.pagesDone : snapshot.filesDone;
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

/** A progress line at the start and at most every 5 s after, plus one line per finished file: readable in CI logs. */
class LinesView implements ProgressView {
  #lastLineAt = 0;
  #done = 0;
  readonly #unit: ProgressUnit;

  constructor(filesTotal: number, unit: ProgressUnit) {
    this.#unit = unit;
    this.update({ ...START_SNAPSHOT, filesTotal });
  }

  update(s: ProgressSnapshot): void {
    const now = Date.now();
    if (now - this.#lastLineAt < 5000) return;
    this.#lastLineAt = now;
    process.stderr.write(`progress: ${s.filesDone}/${s.filesTotal} files, ${pagesText(s, this.#unit)}, ETA ${formatEta(s.etaSeconds)}\n`);
  }

  documentEnded(line: ResultLine): void {
    this.#done++;
    const pages = line.pageCount ?? 0;
    const detail = line.error ? `${line.error.code}: ${line.error.message}` : `${pages} ${pages === 1 ? 'page' : 'pages'}`;
    process.stderr.write(`${printable(`[${this.#done}] ${line.status} ${line.path} (${detail})`)}\n`);
  }

  stop(): void {}
}

const silent: ProgressView = { update() {}, documentEnded() {}, stop() {} };

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/** The view for `mode`, over a run of `filesTotal` files, counting `unit`. */
export function createProgressView(mode: ProgressMode, filesTotal: number, unit: ProgressUnit = 'pages'): ProgressView {
  if (mode === 'none') return silent;
  if (mode === 'bar' || (mode === 'auto' && process.stderr.isTTY)) return new BarView(filesTotal, unit);
  return new LinesView(filesTotal, unit);
}
