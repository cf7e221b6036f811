// Pages read by OCR, each as a pool task of its own: the pool's time limit then applies per
// page (a few seconds each) rather than to a whole chunk of scans, and the pages of one chunk
// may run on several threads. A page whose OCR fails becomes a page failure with the task's
// code; its siblings carry on. Readers that OCR (images; PDFs' scanned pages) share this.
import { toReamError } from '../../errors.ts';
import type { JsonValue } from '../../json.ts';
import type { OcrEngineUsed } from './ocr-engine.ts';
import type { PageFailure, PageReadListener, PageText, PageWarning, TaskRunner } from '../types.ts';

/** What an OCR task returns for one page; `warning`: a caveat about what was read (a file cut short). */
export type OcrPageResult = { text: string; confidence: number; ocrMs: number; ocrEngine: OcrEngineUsed; warning?: Omit<PageWarning, 'page'> };

export interface OcrPagesOutcome {
  pages: PageText[];
  failures: PageFailure[];
  warnings: PageWarning[];
}

/**
 * Runs `task` once per page of `pages` (1-based), with the input `inputOf(page)` and
 * `extraMemoryBytes` of room outside the thread's heap. Cancellation ends it all; any other
 * failure is that page's. `onPageRead` hears each page as its task ends.
 */
export async function ocrPages(
  runner: TaskRunner, task: string, pages: readonly number[], inputOf: (page: number) => JsonValue,
  options: { signal?: AbortSignal; extraMemoryBytes: number; onPageRead?: PageReadListener | undefined },
): Promise<OcrPagesOutcome> {
  const { onPageRead, ...runOptions } = options;
  const outcomes = await Promise.all(pages.map(async (page) => {
    let outcome: { page: number; result?: OcrPageResult; failure?: ReturnType<typeof toReamError> };
    try {
      outcome = { page, result: await runner.run<OcrPageResult>(task, inputOf(page), runOptions) };
    } catch (error) {
      const failure = toReamError(error);
      if (failure.code === 'cancelled') throw failure;
      outcome = { page, failure };
    }
    onPageRead?.(page);
    return outcome;
  }));
  const out: OcrPagesOutcome = { pages: [], failures: [], warnings: [] };
  for (const { page, result, failure } of outcomes) {
    if (result) out.pages.push({ page, text: result.text, source: 'ocr', confidence: result.confidence, ocrMs: result.ocrMs, ocrEngine: result.ocrEngine });
    if (result?.warning) out.warnings.push({ page, ...result.warning });
    else if (failure) out.failures.push({ page, code: failure.code, message: failure.message });
  }
  return out;
}
