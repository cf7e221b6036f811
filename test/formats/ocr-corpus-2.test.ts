// One scan of the shared corpus read by OCR and compared with the tesseract CLI (ocr-corpus-case.ts).
import { ocrCorpusCase } from './ocr-corpus-case.ts';

ocrCorpusCase(1);
