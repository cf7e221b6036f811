import { writeFile } from 'node:fs/promises';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export interface MakePdfOptions {
  /** Text of each page (one string per page; `\n` starts a new line). */
  pages: readonly string[];
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string[];
  creator?: string;
  producer?: string;
  modifiedAt?: Date;
}

/** Builds a real PDF with pdf-lib: known text per page and metadata, for tests to check against. */
export async function makePdf(options: MakePdfOptions): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  if (options.title !== undefined) doc.setTitle(options.title);
  if (options.author !== undefined) doc.setAuthor(options.author);
  if (options.subject !== undefined) doc.setSubject(options.subject);
  if (options.keywords !== undefined) doc.setKeywords(options.keywords);
  if (options.creator !== undefined) doc.setCreator(options.creator);
  if (options.modifiedAt !== undefined) doc.setModificationDate(options.modifiedAt);
  doc.setProducer(options.producer ?? 'ream tests');
  doc.setCreationDate(new Date('2024-05-06T07:08:09Z'));
  for (const text of options.pages) {
    const page = doc.addPage([595, 842]);
    let y = 780;
    for (const line of text.split('\n')) {
      page.drawText(line, { x: 50, y, size: 12, font });
      y -= 18;
    }
  }
  return doc.save();
}

export async function writePdf(path: string, options: MakePdfOptions): Promise<void> {
  await writeFile(path, await makePdf(options));
}

/** `count` pages whose text names the page, e.g. "Document A page 3 of 40". */
export function numberedPages(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${label} page ${i + 1} of ${count}\nInvoice number INV-${label}-${i + 1}`);
}

/**
 * A "scan": each page is one PNG of `lines` drawn in black on white with @napi-rs/canvas at
 * 200 DPI, filling the page as a scanner's image does, and the PDF has no text layer at all.
 * What OCR must read back.
 */
export async function makeScannedPdf(pages: readonly (readonly string[])[]): Promise<Uint8Array> {
  const { createCanvas } = await import('@napi-rs/canvas');
  const doc = await PDFDocument.create();
  doc.setProducer('ream tests (scan)');
  const [width, height] = [595, 842];
  const scale = 200 / 72;
  for (const lines of pages) {
    const canvas = createCanvas(Math.round(width * scale), Math.round(height * scale));
    const context = canvas.getContext('2d');
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = '#000000';
    context.font = `${Math.round(14 * scale)}px sans-serif`;
    lines.forEach((line, i) => context.fillText(line, 60 * scale, (90 + i * 24) * scale));
    const image = await doc.embedPng(canvas.toBuffer('image/png'));
    doc.addPage([width, height]).drawImage(image, { x: 0, y: 0, width, height });
  }
  return doc.save();
}
