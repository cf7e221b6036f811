import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { MAX_FILE_NAME_BYTES, sanitizeFileName } from '../../src/server/uploads/file-name.ts';
import { makePdf } from '../support/make-pdf.ts';
import { TUS, call, startHostile, storeDocument, type Hostile } from './harness.ts';

let h: Hostile;

before(async () => {
  h = await startHostile();
});
after(() => h.close());

/** Hostile names and what must be kept of them. */
const NAMES: Array<{ what: string; name: string; expect: (kept: string) => void }> = [
  { what: 'NUL', name: 'report\u0000.exe.txt', expect: (kept) => assert.equal(kept, 'report.exe.txt') },
  { what: 'RTL override', name: 'invoice\u202Eexe.txt', expect: (kept) => assert.equal(kept, 'invoiceexe.txt') },
  { what: 'bidi isolates and marks', name: '\u2066a\u2069\u200Fb\u061C.txt', expect: (kept) => assert.equal(kept, 'ab.txt') },
  { what: 'control characters', name: 'a\u0001\u001b[31mb\u007f\u0085.txt', expect: (kept) => assert.equal(kept, 'a[31mb.txt') },
  { what: 'path traversal', name: '../../etc/passwd', expect: (kept) => assert.equal(kept, 'passwd') },
  { what: 'Windows path traversal', name: '..\\..\\windows\\notes.txt', expect: (kept) => assert.equal(kept, 'notes.txt') },
  { what: '10,000 characters, extension kept', name: `${'x'.repeat(10_000)}.txt`, expect: (kept) => assert.equal(kept, `${'x'.repeat(MAX_FILE_NAME_BYTES - 4)}.txt`) },
  {
    what: 'long multi-byte with extension, cut between characters',
    name: `${'é'.repeat(300)}.txt`,
    expect: (kept) => assert.equal(kept, `${'é'.repeat(125)}.txt`),
  },
  { what: 'long 4-byte characters with extension', name: `${'😀'.repeat(100)}.txt`, expect: (kept) => assert.equal(kept, `${'😀'.repeat(62)}.txt`) },
  { what: 'long name, an "extension" too long to be one', name: `${'x'.repeat(300)}.${'y'.repeat(20)}`, expect: (kept) => assert.equal(kept, 'x'.repeat(MAX_FILE_NAME_BYTES)) },
  {
    what: 'long multi-byte, cut between characters',
    name: 'é'.repeat(300),
    expect: (kept) => {
      assert.equal(kept, 'é'.repeat(127));
      assert.ok(Buffer.byteLength(kept) <= MAX_FILE_NAME_BYTES);
    },
  },
];

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String);
}

describe('file names: control and bidi characters removed, a name never a path, length capped', () => {
  test('the sanitizer (table) and its fallbacks', () => {
    for (const { name, expect } of NAMES) {
      const kept = sanitizeFileName(name, 'fallback');
      expect(kept);
      assert.ok(Buffer.byteLength(kept) <= MAX_FILE_NAME_BYTES, name.slice(0, 20));
      assert.ok(kept.isWellFormed(), 'no character split');
    }
    // A multi-byte extension is kept whole (an extension ream cannot read, so not in the table the API gets).
    assert.equal(sanitizeFileName(`${'x'.repeat(300)}.données`, 'fallback'), `${'x'.repeat(MAX_FILE_NAME_BYTES - 9)}.données`);
    // A name of 200 KB keeps its extension.
    assert.equal(sanitizeFileName(`${'n'.repeat(200_000)}.pdf`, 'fallback'), `${'n'.repeat(MAX_FILE_NAME_BYTES - 4)}.pdf`);
    // At every length around the cap, a name of 3-byte characters is cut between characters and ends in its extension.
    for (let count = 80; count < 90; count++) {
      const kept = sanitizeFileName(`${'€'.repeat(count)}.pdf`, 'fallback');
      assert.ok(kept.endsWith('.pdf') && Buffer.byteLength(kept) <= MAX_FILE_NAME_BYTES && /^€+\.pdf$/u.test(kept), `${count}: ${kept}`);
    }
    for (const empty of ['', '..', '.', '/', '\u202E', '\u0000', '   ', undefined, null]) assert.equal(sanitizeFileName(empty, 'fallback'), 'fallback', JSON.stringify(empty));
  });

  test('POST /v1/documents keeps only the sanitized name', async () => {
    for (const [i, { what, name, expect }] of NAMES.entries()) {
      const doc = await storeDocument(h, h.keyA, `content of document ${i}`, name);
      expect(doc.name);
      const read = (await (await call(h, `/v1/documents/${doc.id}`, h.keyA)).json()) as { name: string };
      assert.equal(read.name, doc.name, what);
    }
  });

  test('multipart POST /v1/jobs names its documents with the sanitized name', async () => {
    for (const [i, { what, name, expect }] of NAMES.entries()) {
      const body = new FormData();
      body.append('file', new Blob([`job file ${i}`], { type: 'text/plain' }), name);
      const response = await call(h, '/v1/jobs', h.keyA, { method: 'POST', body });
      assert.equal(response.status, 202, what);
      const { id } = (await response.json()) as { id: string };
      const [entry] = await h.ream.jobDocuments(id);
      expect(entry?.source ?? '');
    }
  });

  test('tus filename metadata is sanitized the same way', async () => {
    for (const [i, { what, name, expect }] of NAMES.entries()) {
      const content = `tus upload ${i}`;
      const created = await call(h, '/v1/uploads', h.keyA, {
        method: 'POST',
        headers: {
          ...TUS,
          'Upload-Length': String(content.length),
          'Upload-Metadata': `filename ${Buffer.from(name).toString('base64')}`,
          'Content-Type': 'application/offset+octet-stream',
        },
        body: content,
      });
      assert.equal(created.status, 201, what);
      const id = (created.headers.get('location') ?? '').split('/').pop() ?? '';
      const record = (await (await call(h, `/v1/uploads/${id}`, h.keyA)).json()) as { status: string; name: string; documentId: string };
      assert.equal(record.status, 'stored', what);
      expect(record.name);
      const doc = (await (await call(h, `/v1/documents/${record.documentId}`, h.keyA)).json()) as { name: string };
      expect(doc.name);
    }
  });

  test('a PDF with a name of tens of KB keeps its .pdf through POST /v1/documents and tus', async () => {
    const pdf = await makePdf({ pages: ['A page under a very long name'] });
    const kept = `${'n'.repeat(MAX_FILE_NAME_BYTES - 4)}.pdf`;
    // The multipart parser reads at most 256 KB of a part's headers and takes names of 64 KB at most.
    const doc = await storeDocument(h, h.keyA, pdf, `${'n'.repeat(60_000)}.pdf`, 'application/pdf');
    assert.equal(doc.name, kept);
    const read = (await (await call(h, `/v1/documents/${doc.id}`, h.keyA)).json()) as { name: string };
    assert.equal(read.name, kept);

    // tus metadata travels in a header, so its name stays within header limits.
    const created = await call(h, '/v1/uploads', h.keyA, {
      method: 'POST',
      headers: {
        ...TUS,
        'Upload-Length': String(pdf.byteLength),
        'Upload-Metadata': `filename ${Buffer.from(`${'n'.repeat(8_000)}.pdf`).toString('base64')}`,
        'Content-Type': 'application/offset+octet-stream',
      },
      body: pdf,
    });
    assert.equal(created.status, 201, await created.clone().text());
    const id = (created.headers.get('location') ?? '').split('/').pop() ?? '';
    const record = (await (await call(h, `/v1/uploads/${id}`, h.keyA)).json()) as { status: string; name: string; documentId: string };
    assert.equal(record.status, 'stored', JSON.stringify(record).slice(0, 300));
    assert.equal(record.name, kept);
    const uploaded = (await (await call(h, `/v1/documents/${record.documentId}`, h.keyA)).json()) as { name: string };
    assert.equal(uploaded.name, kept);
  });

  test('no name ever became a path on disk', async () => {
    const files = await filesUnder(h.ream.dataDir);
    assert.ok(files.length > 0);
    for (const file of files) assert.ok(!/passwd|notes|invoice|report/.test(file), `nothing named after an upload: ${file}`);
  });
});

test('a multipart file name past what the parser reads whole is 400 validation_failed, not stored cut without its extension', async () => {
  const pdf = await makePdf({ pages: ['A page under a name of 100 KB'] });
  const name = `${'n'.repeat(100_000)}.pdf`;
  const before = h.countRows('documents', 'tenant-a');
  for (const path of ['/v1/documents', '/v1/jobs']) {
    const body = new FormData();
    body.append('file', new Blob([pdf], { type: 'application/pdf' }), name);
    const response = await call(h, path, h.keyA, { method: 'POST', body });
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(response.status, 400, `${path}: ${JSON.stringify(problem).slice(0, 300)}`);
    assert.equal(problem.code, 'validation_failed');
    assert.match(problem.detail, /file name .*too long|name of \d+ bytes/);
  }
  assert.equal(h.countRows('documents', 'tenant-a'), before, 'nothing was stored');
});

test('a percent-encoded multipart file name (filename*=) is read whole or refused, never stored cut without its extension', async () => {
  const pdf = await makePdf({ pages: ['A page under a long encoded name'] });
  const boundary = 'ream-long-encoded-name';
  const send = (path: string, nameBytes: number): Promise<Response> => {
    // Each byte as %6E: 3 bytes of part header a byte of name.
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''${'%6E'.repeat(nameBytes - 4)}.pdf\r\nContent-Type: application/pdf\r\n\r\n`;
    const body = Buffer.concat([Buffer.from(head), pdf, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    return call(h, path, h.keyA, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  };
  // 30 KB of name, 90 KB of header: past busboy's default 80 KB, it was cut to about 26 KB and stored without its .pdf.
  const stored = await send('/v1/documents', 30_000);
  const items = ((await stored.json()) as { items?: Array<{ name: string; mediaType: string }> }).items ?? [];
  assert.equal(stored.status, 201, JSON.stringify(items).slice(0, 300));
  assert.equal(items[0]?.name, `${'n'.repeat(MAX_FILE_NAME_BYTES - 4)}.pdf`);
  assert.equal(items[0]?.mediaType, 'application/pdf');
  // Past the bound in this form too: refused, nothing stored.
  const before = h.countRows('documents', 'tenant-a');
  for (const path of ['/v1/documents', '/v1/jobs']) {
    const response = await send(path, 100_000);
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(response.status, 400, `${path}: ${JSON.stringify(problem).slice(0, 300)}`);
    assert.equal(problem.code, 'validation_failed');
    assert.match(problem.detail, /file name of \d+ bytes is too long/);
  }
  assert.equal(h.countRows('documents', 'tenant-a'), before, 'nothing was stored');
});
