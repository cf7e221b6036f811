// The OCR options of a job (`ocr`, `ocrLanguages`, `ocrDpi`, `ocrEngine`), checked when the job is submitted
// and again by the reader. Language data comes from npm packages (`@tesseract.js-data/<code>`),
// never from the network: a language is known when its package is installed.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';
import type { OcrEngine, OcrMode, OcrOptions } from '../types.ts';

export const OCR_MODES: readonly OcrMode[] = ['auto', 'always', 'never'];

/**
 * Rendering resolution. 300 DPI is what tesseract is trained for (body text ≈ 30 px high);
 * below 150 small print is lost, above 600 a page costs 4× the memory and time for no gain.
 */
export const DEFAULT_OCR_DPI = 300;
export const MIN_OCR_DPI = 72;
export const MAX_OCR_DPI = 600;

/**
 * Most pixels a page is rendered with for OCR: 40 MP is A3 at 300 DPI (160 MB of RGBA). A
 * poster-sized page is rendered at a lower resolution instead of at any memory cost.
 */
export const MAX_RENDER_PIXELS = 40_000_000;

/** The languages ream depends on; more work once their `@tesseract.js-data/*` package is installed. */
export const BUNDLED_OCR_LANGUAGES = ['eng', 'fra', 'deu'] as const;

export const DEFAULT_OCR: OcrOptions = { mode: 'auto', languages: ['eng'], dpi: DEFAULT_OCR_DPI, engine: 'auto' };

export const OCR_ENGINES: readonly OcrEngine[] = ['auto', 'tesseract', 'tesseractjs'];

/** The job options that set OCR. */
/** The most languages one job may ask to read its pages with. */
export const MAX_OCR_LANGUAGES = 16;

export const OCR_OPTION_KEYS = ['ocr', 'ocrLanguages', 'ocrDpi', 'ocrEngine'] as const;

// Tesseract's codes: three letters, sometimes a script (`chi_sim`, `uzb_cyrl`). Checked before
// the code becomes part of a module path.
const LANGUAGE_CODE = /^[a-z]{3}(?:_[a-z]{3,4})?$/;

const require = createRequire(import.meta.url);

/**
 * The gzipped LSTM model of `code` from its npm package (`4.0.0_best_int`: the integer
 * "best" model tesseract.js itself picks for its default LSTM engine, 0.7–3 MB a language).
 * Throws `validation_failed` when the code is malformed or its package is not installed.
 */
export function languageDataFile(code: string): string {
  if (!LANGUAGE_CODE.test(code)) throw invalid(`"${code}" is not a tesseract language code (e.g. eng, fra, chi_sim)`);
  const found = dataFiles.get(code);
  if (found !== undefined) return found;
  let pkg: string;
  try {
    pkg = require.resolve(`@tesseract.js-data/${code}/package.json`);
  } catch {
    throw invalid(
      `no OCR data for language "${code}": install @tesseract.js-data/${code} (bundled: ${BUNDLED_OCR_LANGUAGES.join(', ')})`,
      { language: code, bundled: [...BUNDLED_OCR_LANGUAGES] },
    );
  }
  const file = join(dirname(pkg), '4.0.0_best_int', `${code}.traineddata.gz`);
  dataFiles.set(code, file);
  return file;
}

/**
 * Language data found so far, by code: every document's options are checked, and resolving a
 * package walks node_modules (~50 µs). Only what was found is kept, so a package installed
 * while a server runs is found on the next job that asks for it.
 */
const dataFiles = new Map<string, string>();

/** Reads `ocr`, `ocrLanguages` (a list, or one `+`-joined string as tesseract writes it) and `ocrDpi`; defaults for what is absent. */
export function parseOcrOptions(options: JsonObject): OcrOptions {
  const mode = options.ocr ?? DEFAULT_OCR.mode;
  if (typeof mode !== 'string' || !(OCR_MODES as readonly string[]).includes(mode)) {
    throw invalid(`option "ocr" must be one of ${OCR_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const dpi = options.ocrDpi ?? DEFAULT_OCR.dpi;
  if (typeof dpi !== 'number' || !Number.isInteger(dpi) || dpi < MIN_OCR_DPI || dpi > MAX_OCR_DPI) {
    throw invalid(`option "ocrDpi" must be an integer from ${MIN_OCR_DPI} to ${MAX_OCR_DPI}, got ${JSON.stringify(dpi)}`);
  }
  const raw = options.ocrLanguages ?? DEFAULT_OCR.languages;
  const list = typeof raw === 'string' ? raw.split('+') : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((code) => typeof code === 'string')) {
    throw invalid(`option "ocrLanguages" must be a non-empty list of language codes, got ${JSON.stringify(raw).slice(0, 200)}`);
  }
  // A page is read with every language at once: a handful is plenty, and the options are kept
  // (and shown) with the job as given.
  if (list.length > MAX_OCR_LANGUAGES) throw invalid(`option "ocrLanguages" takes at most ${MAX_OCR_LANGUAGES} languages, got ${list.length}`);
  const languages = [...new Set(list)];
  for (const code of languages) languageDataFile(code);
  const engine = options.ocrEngine ?? DEFAULT_OCR.engine;
  if (typeof engine !== 'string' || !(OCR_ENGINES as readonly string[]).includes(engine)) {
    throw invalid(`option "ocrEngine" must be one of ${OCR_ENGINES.join(', ')}, got ${JSON.stringify(engine)}`);
  }
  return { mode: mode as OcrMode, languages, dpi, engine: engine as OcrEngine };
}

/** {@link parseOcrOptions} over options already typed: what a program hands a reader directly. */
export function checkOcrOptions(ocr: OcrOptions): OcrOptions {
  return parseOcrOptions({ ocr: ocr.mode, ocrLanguages: [...ocr.languages], ocrDpi: ocr.dpi, ocrEngine: ocr.engine ?? 'auto' });
}

function invalid(message: string, details?: Record<string, unknown>): ReamError {
  return ReamError.nonRetryable('validation_failed', message, details ? { details } : {});
}
