import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createDeflate } from 'node:zlib';

const MB = 1024 * 1024;

/**
 * Deflates `decodedMb` MB of zeros, fed 1 MB at a time so the test never holds more than the
 * compressed result. Level 1 is ~5× faster than 9 on zeros (2 GB in ~2 s) for ~4.5 KB per MB
 * instead of ~1 KB: the file is still a few MB, like the bombs seen in the wild.
 */
async function deflatedZeros(decodedMb: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 1 });
  const parts: Buffer[] = [];
  deflate.on('data', (part: Buffer) => parts.push(part));
  const zeros = Buffer.alloc(MB);
  for (let i = 0; i < decodedMb; i++) {
    if (!deflate.write(zeros)) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  return Buffer.concat(parts);
}

/**
 * A one-page PDF whose content stream is a FlateDecode "bomb": a few hundred KB on disk that a
 * reader inflates to `decodedMb` MB (zeros, which PDF syntax reads as whitespace). Written from
 * raw PDF syntax, with a correct cross-reference table, so a reader takes it as a sound file.
 */
export async function writeBombPdf(path: string, decodedMb: number): Promise<number> {
  const stream = await deflatedZeros(decodedMb);
  const chunks: Buffer[] = [];
  const offsets: number[] = [];
  let length = 0;
  const add = (part: string | Buffer): void => {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
    chunks.push(bytes);
    length += bytes.length;
  };
  const object = (body: string | Buffer[]): void => {
    offsets.push(length);
    add(`${offsets.length} 0 obj\n`);
    if (typeof body === 'string') add(body);
    else for (const part of body) add(part);
    add('\nendobj\n');
  };
  add('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  object('<< /Type /Catalog /Pages 2 0 R >>');
  object('<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  object('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>');
  object([Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'), stream, Buffer.from('\nendstream', 'latin1')]);
  const xref = length;
  add(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`);
  for (const offset of offsets) add(`${String(offset).padStart(10, '0')} 00000 n \n`);
  add(`trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const bytes = Buffer.concat(chunks);
  await writeFile(path, bytes);
  return bytes.length;
}
