// Child process of bench/pdf-extract.ts: plain PDFium (@embedpdf/pdfium, WebAssembly), the floor
// ream's PDFium engine is measured against. `node bench/pdf-extract-pdfium.ts <threads> <file>...`
// → one JSON line on stdout. `threads` worker threads, each with its own PDFium instance, take
// whole files from a shared list (largest first) and read every page's text with FPDFText_GetText.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { init, type WrappedPdfiumModule } from '@embedpdf/pdfium';
import { runBareEngine, type Done } from './bare-engine.ts';


let library: Promise<WrappedPdfiumModule> | undefined;

async function loadLibrary(): Promise<WrappedPdfiumModule> {
  const wasm = await readFile(createRequire(import.meta.url).resolve('@embedpdf/pdfium/pdfium.wasm'));
  const pdfium = await init({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) });
  pdfium.PDFiumExt_Init();
  return pdfium;
}

async function extractFile(path: string): Promise<Done> {
  library ??= loadLibrary();
  const pdfium = await library;
  const bytes = await readFile(path);
  // Emscripten's module has HEAPU8 at run time; the package's types leave it out. It is read
  // again after each malloc, which may grow the memory and replace the array.
  const heap = pdfium.pdfium as typeof pdfium.pdfium & { HEAPU8: Uint8Array };
  const data = heap.wasmExports.malloc(bytes.length);
  heap.HEAPU8.set(bytes, data);
  const doc = pdfium.FPDF_LoadMemDocument(data, bytes.length, '');
  if (!doc) throw new Error(`${path}: PDFium error ${pdfium.FPDF_GetLastError()}`);
  const pages = pdfium.FPDF_GetPageCount(doc);
  let chars = 0;
  for (let index = 0; index < pages; index++) {
    const page = pdfium.FPDF_LoadPage(doc, index);
    const textPage = pdfium.FPDFText_LoadPage(page);
    const count = pdfium.FPDFText_CountChars(textPage);
    const buffer = heap.wasmExports.malloc((count + 1) * 2);
    const written = pdfium.FPDFText_GetText(textPage, 0, count, buffer);
    chars += Buffer.from(heap.HEAPU8.buffer, buffer, Math.max(0, written - 1) * 2).toString('utf16le').length;
    heap.wasmExports.free(buffer);
    pdfium.FPDFText_ClosePage(textPage);
    pdfium.FPDF_ClosePage(page);
  }
  pdfium.FPDF_CloseDocument(doc);
  heap.wasmExports.free(data);
  return { pages, chars };
}

await runBareEngine(import.meta.url, extractFile);
