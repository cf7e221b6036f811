// The engines OCR tests run with: each must read pages as well as the other.
import type { OcrEngine } from '../../src/formats/types.ts';

export const OCR_TEST_ENGINES: readonly Exclude<OcrEngine, 'auto'>[] = ['tesseract', 'tesseractjs'];
