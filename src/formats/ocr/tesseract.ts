// Tesseract (tesseract.js: the C++ engine compiled to WebAssembly) inside a pool thread. One
// engine per thread, made on the thread's first OCR task and kept: loading a language model
// costs ~1–2 s, recognising a page a few seconds. tesseract.js runs the engine in a worker
// thread of its own, a child of the pool thread: when the pool stops a thread (timeout, memory,
// shutdown) the engine goes with it, and its memory is watched from here (engine-memory.ts).
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker as NodeWorker } from 'node:worker_threads';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { ReamError } from '../../errors.ts';
import { engineBudgetBytes, watchEngineMemory } from './engine-memory.ts';
import { languageDataFile } from './ocr-options.ts';

export interface Recognition {
  text: string;
  /** Mean word confidence, 0–100. */
  confidence: number;
}

interface Engine {
  languages: string;
  worker: Promise<Worker>;
}

let engine: Engine | undefined;

/**
 * The thread's engine for `languages` (tesseract's `eng+fra`), made when missing or when a task
 * asks for other languages (the old one is ended: one engine per thread at most).
 */
async function engineFor(languages: readonly string[]): Promise<Worker> {
  const key = languages.join('+');
  if (engine?.languages !== key) {
    const old = engine;
    engine = { languages: key, worker: startWorker(languages) };
    await old?.worker.then((worker) => worker.terminate()).catch(() => undefined);
  }
  const current = engine;
  return current.worker.catch((error: unknown) => {
    if (engine === current) engine = undefined; // the next task tries again
    throw error;
  });
}

/**
 * tesseract.js reads every language from one folder (`langPath`), but each npm package has its
 * own: a temporary folder of links to the packages' files joins them. Nothing is fetched or
 * cached (`cacheMethod: 'none'`): by default tesseract.js downloads from a CDN and writes
 * `<lang>.traineddata` into the working directory.
 */
async function startWorker(languages: readonly string[]): Promise<Worker> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-ocr-'));
  try {
    for (const code of languages) await symlink(languageDataFile(code), join(dir, `${code}.traineddata.gz`));
    // Without an errorHandler tesseract.js throws its engine's errors inside a message handler,
    // which kills the pool thread; and a language that fails to load never settles createWorker.
    // So errors reach us here, and end the start when it is still under way.
    let failStart: (error: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      failStart = reject;
    });
    failed.catch(() => undefined); // later errors belong to recognize(), which rejects on its own
    const options = { langPath: dir, gzip: true, cacheMethod: 'none', errorHandler: (error: unknown) => failStart(error) };
    return await Promise.race([createWorker([...languages], OEM.LSTM_ONLY, options), failed]);
  } catch (error) {
    throw ReamError.nonRetryable('ocr_failed', `cannot start tesseract for ${languages.join('+')}: ${message(error)}`, { cause: error });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Recognises the text of one page image (PNG) rendered at `dpi`. */
export async function recognize(image: Buffer, languages: readonly string[], dpi: number): Promise<Recognition> {
  const worker = await engineFor(languages);
  // tesseract.js keeps the engine's Node worker as `worker`; its types leave it out.
  const watch = watchEngineMemory((worker as unknown as { worker?: NodeWorker }).worker, engineBudgetBytes());
  try {
    // A PNG from the canvas says nothing of its resolution; tesseract would guess (70 DPI) and
    // scale its size heuristics by the guess. Page segmentation as the `tesseract` CLI does it
    // (automatic: columns, blocks): tesseract's API defaults to one uniform block of text.
    await worker.setParameters({ user_defined_dpi: String(dpi), tessedit_pageseg_mode: PSM.AUTO });
    const { data } = await Promise.race([worker.recognize(image), watch.exceeded]);
    return { text: data.text, confidence: data.confidence };
  } catch (error) {
    // An engine that failed once (or was stopped for its memory) is not trusted with the next page.
    if (engine?.languages === languages.join('+')) engine = undefined;
    await worker.terminate().catch(() => undefined);
    if (error instanceof ReamError) throw error;
    throw ReamError.nonRetryable('ocr_failed', `tesseract could not read the page: ${message(error)}`, { cause: error });
  } finally {
    watch.stop();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
