// PDFs made on the spot with pdf-lib, so tests know exactly what each page says.
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber } from 'pdf-lib';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

export { numberedPages };

/** Every metadata field set, and `pages` as the text (one line each). */
export function pdfWithMetadata(pages: readonly string[]): Promise<Uint8Array> {
  return makePdf({
    pages,
    title: 'Quarterly report',
    author: 'Ada Lovelace',
    subject: 'Numbers, mostly',
    keywords: ['finance', 'q3'],
    creator: 'ream test suite',
    producer: 'pdf-lib',
    modifiedAt: new Date('2024-06-07T08:09:10Z'),
  });
}

/**
 * `count` numbered pages (label `B`) where the pages in `broken` (1-based) cannot be loaded:
 * each sits alone under an intermediate page-tree node whose kid is a number, not a page.
 * The node's /Count stays right, so readers can still reach the pages after it.
 */
export async function pdfWithBrokenPages(count: number, broken: readonly number[]): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await makePdf({ pages: numberedPages('B', count) }));
  const kids = doc.catalog.lookup(PDFName.of('Pages'), PDFDict).lookup(PDFName.of('Kids'), PDFArray);
  for (const page of broken) {
    const node = doc.context.obj({ Type: 'Pages', Count: 1, Kids: [doc.context.register(PDFNumber.of(42))] });
    kids.set(page - 1, doc.context.register(node));
  }
  return doc.save({ useObjectStreams: false });
}

/** A real 1×1 PNG image. */
export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
