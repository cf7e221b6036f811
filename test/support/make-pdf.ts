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
