// One scan of the shared corpus read by OCR with one engine and compared with the tesseract CLI
// (ocr-corpus-case.ts); the other engine reads it in a file of its own, to keep each file short.
import { ocrCorpusCase } from './ocr-corpus-case.ts';

ocrCorpusCase(1, ['tesseractjs']);
