// Which engine reads a page: the native `tesseract` program (native-tesseract.ts) or
// tesseract.js (tesseract.ts, WebAssembly). `auto` takes the program when it is installed and
// answers, else tesseract.js: the same model either way, the program at ~0.6× the CPU.
import type { OcrEngine } from '../types.ts';
import { nativeTesseractAvailable, recognizeNative } from './native-tesseract.ts';
import { recognize, type Recognition } from './tesseract.ts';

/** The engine that actually read a page. */
export type OcrEngineUsed = Exclude<OcrEngine, 'auto'>;

/** `auto` resolved for this thread: `tesseract` when the program answers `--version`. */
export async function resolveOcrEngine(engine: OcrEngine = 'auto'): Promise<OcrEngineUsed> {
  if (engine !== 'auto') return engine;
  return (await nativeTesseractAvailable()) ? 'tesseract' : 'tesseractjs';
}

/** Recognises one page image rendered at `dpi` with the chosen engine. */
export async function recognizePage(
  image: Buffer, languages: readonly string[], dpi: number, engine: OcrEngine = 'auto',
): Promise<Recognition & { engine: OcrEngineUsed }> {
  const used = await resolveOcrEngine(engine);
  const read = used === 'tesseract' ? await recognizeNative(image, languages, dpi) : await recognize(image, languages, dpi);
  return { ...read, engine: used };
}
