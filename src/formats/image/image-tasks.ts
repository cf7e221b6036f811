// The image tasks a pool thread runs (see src/runtime/pool-worker.ts): `image.inspect` counts
// the pages (a TIFF's frames) from the headers, `image.ocr` decodes one and recognises its text.
import { readFile } from 'node:fs/promises';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import type { OcrPageResult } from '../ocr/ocr-pages.ts';
import { recognizePage } from '../ocr/ocr-engine.ts';
import { tidyLines } from '../pdf/page-text.ts';
import type { OcrEngine, TaskHandler } from '../types.ts';
import { frameCount, framePng } from './image-frames.ts';
import { truncation } from './image-truncation.ts';
import { fileIoError } from '../file-checks.ts';

export type ImageInspectInput = { path: string; mediaType: string };
export type ImageInspectResult = { pageCount: number };
export type ImageOcrInput = { path: string; mediaType: string; page: number; languages: string[]; dpi: number; engine?: OcrEngine };

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fileIoError('read', error);
  }
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path, mediaType } = fromJson<ImageInspectInput>(input);
  const result: ImageInspectResult = { pageCount: frameCount(await readBytes(path), mediaType) };
  return asJson(result);
}

async function ocr(input: JsonValue): Promise<JsonValue> {
  const { path, mediaType, page, languages, dpi, engine } = fromJson<ImageOcrInput>(input);
  const started = performance.now();
  const bytes = await readBytes(path);
  const png = await framePng(bytes, mediaType, page - 1);
  const { text, confidence, engine: ocrEngine } = await recognizePage(png, languages, dpi, engine);
  // A file cut short is said once, on its first page.
  const cut = page === 1 ? truncation(bytes, mediaType) : undefined;
  const result: OcrPageResult = {
    text: tidyLines(text.split('\n')), confidence, ocrMs: Math.round(performance.now() - started), ocrEngine,
    ...(cut === undefined ? {} : { warning: { code: 'invalid_image', message: cut } }),
  };
  return asJson(result);
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'image.inspect': inspect,
  'image.ocr': ocr,
};
