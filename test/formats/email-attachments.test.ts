// An e-mail's attachments as child documents of its job, read by the same pipeline, in both
// modes (embedded: SQLite and a folder; distributed: PostgreSQL, BullMQ and S3): a PDF read as a
// PDF, an image by OCR, an unreadable file failing alone, an attached message with attachments
// of its own; the limits (`resource_limit`); a repeat of the parent's inspection making no second
// child; POST /v1/jobs and its results; CPython's real messages (test/fixtures/README.md). The
// CLI's JSONL is in test/cli/run-formats.test.ts.
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { addChildDocuments, NAMED_REFUSALS } from '../../src/runtime/child-documents.ts';
import type { Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import { startServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { requireOrSkip } from '../support/env.ts';
import { formatsFixture } from '../support/formats-fixture.ts';
import { makeEmail } from '../support/make-email.ts';
import { makeImage } from '../support/make-image.ts';
import { makePdf } from '../support/make-pdf.ts';
import { withModeReam, type Mode } from '../support/modes.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const FIXTURES = new URL('../fixtures/real/', import.meta.url).pathname;
const unavailable = (await postgresUnavailable()) ?? (await redisUnavailable());

let dir: string;
/** A message with a PDF, a PNG of text, a file no reader takes, and a forwarded message that has a text file attached. */
let mail: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-email-children-'));
  const forwarded = makeEmail({
    subject: 'Original',
    body: 'The original message.',
    attachments: [{ filename: 'notes.txt', contentType: 'text/plain', content: 'Notes about the harbour crane.\n' }],
  });
  mail = join(dir, 'mail.eml');
  await writeFile(mail, makeEmail({
    subject: 'Invoices',
    body: 'Please find the invoice attached.',
    attachments: [
      { filename: 'invoice.pdf', contentType: 'application/pdf', content: await makePdf({ pages: ['Invoice 4711 for lighthouse paint', 'Page two of the invoice'] }) },
      { filename: 'scan.png', contentType: 'image/png', content: makeImage(['Receipt for twelve anchors'], 'image/png') },
      { filename: 'tool.bin', contentType: 'application/octet-stream', content: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
      { contentType: 'message/rfc822', content: forwarded },
    ],
  }));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A ream of the mode (test/support/modes.ts), handed to `use`. */
function withReam(mode: Mode, use: (ream: Ream) => Promise<void>): Promise<void> {
  return withModeReam(mode, {}, ({ ream }) => use(ream));
}

function bySource(results: readonly DocumentOutput[]): Map<string, DocumentOutput> {
  return new Map(results.map((r) => [r.source, r]));
}

void describe('e-mail attachments as child documents', () => {
  /** The formats of a pool of the test's own, for the repeated inspection. */
  const fixture = formatsFixture('ream-email-children-repeat-', { maxBytes: 2 ** 30, maxPages: 10_000 });
  for (const mode of ['embedded', 'distributed'] as const) {
    void test(`each attachment is a document of the job with its parent's id, read by its own reader (${mode})`, { timeout: 120_000 }, async (t) => {
      if (mode === 'distributed' && !requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
      await withReam(mode, async (ream) => {
        const job = await ream.submit({ files: [{ path: mail, source: 'mail.eml' }] });
        const done = await ream.wait(job.id, { signal: AbortSignal.timeout(100_000) });
        const results = await Array.fromAsync(ream.results(job.id));
        const out = bySource(results);
        const parent = out.get('mail.eml');
        assert.ok(parent, [...out.keys()].join(', '));
        assert.equal(parent.status, 'succeeded', JSON.stringify(parent.error));
        assert.equal(parent.parentId, undefined);
        assert.deepEqual(parent.metadata?.attachments, ['invoice.pdf', 'scan.png', 'tool.bin', 'attachment-4.eml']);

        const pdf = out.get('mail.eml#1/invoice.pdf');
        assert.equal(pdf?.parentId, parent.documentId);
        assert.equal(pdf.status, 'succeeded');
        assert.equal(pdf.mediaType, 'application/pdf');
        assert.equal(pdf.pageCount, 2);
        assert.match(pdf.pages[0]?.text ?? '', /Invoice 4711 for lighthouse paint/);

        const scan = out.get('mail.eml#2/scan.png');
        assert.equal(scan?.parentId, parent.documentId);
        assert.equal(scan.pages[0]?.source, 'ocr');
        assert.match(scan.pages[0]?.text ?? '', /twelve anchors/i);

        const bin = out.get('mail.eml#3/tool.bin');
        assert.equal(bin?.parentId, parent.documentId);
        assert.equal(bin.status, 'failed');
        assert.equal(bin.error?.code, 'unsupported_type', 'it fails alone, with its own code');

        const forwarded = out.get('mail.eml#4/attachment-4.eml');
        assert.equal(forwarded?.parentId, parent.documentId);
        assert.equal(forwarded.mediaType, 'message/rfc822');
        assert.equal(forwarded.metadata?.title, 'Original');
        const notes = out.get('mail.eml#4/attachment-4.eml#1/notes.txt');
        assert.equal(notes?.parentId, forwarded.documentId, 'a grandchild names its own parent');
        assert.match(notes.pages[0]?.text ?? '', /harbour crane/);

        assert.equal(results.length, 6);
        assert.equal(done.status, 'partially_succeeded', 'one attachment failed: the job says so');
        const counts = await ream.counts(job.id);
        assert.equal(counts.documentsTotal, 6, 'the document count grew with the children');
        assert.equal(counts.documentsFailed, 1);
        assert.equal(counts.pagesTotal, 1 + 2 + 1 + 1 + 1, 'the page totals too (the failed one has none)');
        assert.deepEqual((await ream.search('lighthouse')).map((hit) => hit.documentId), [pdf.documentId], 'children are indexed like any document');

        // A repeat of the parent's inspection (a crash before it was marked inspected) finds the
        // same children: nothing is attached twice.
        const engine = engineOf(ream);
        const format = fixture.formats().byMediaType('message/rfc822');
        const jobDoc = await ream.jobDocument(job.id, parent.documentId);
        const record = await ream.getJob(job.id);
        assert.ok(format && jobDoc && record);
        const pipeline = engine.buildPipeline(record.pipeline, record.options);
        await addChildDocuments(engine, format, { job: record, jobDoc, pipeline, path: mail, metadata: parent.metadata ?? {} }, new AbortController().signal);
        assert.equal((await ream.jobDocuments(job.id)).length, 6, 'no child made twice');
      });
    });
  }

  void test('over HTTP: POST /v1/jobs with the message; the job view counts the children, the results name their parent', { timeout: 120_000 }, async () => {
    await withReam('embedded', async (ream) => {
      const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
      try {
        const body = new FormData();
        body.append('file', await openAsBlob(mail), 'mail.eml');
        const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
        assert.equal(response.status, 202, await response.clone().text());
        const { id } = (await response.json()) as JobView;
        await ream.wait(id, { signal: AbortSignal.timeout(100_000) });
        const view = (await (await fetch(`${server.url}/v1/jobs/${id}`)).json()) as JobView;
        assert.equal(view.status, 'partially_succeeded');
        assert.deepEqual(view.counts.documents, { total: 6, succeeded: 5, partiallySucceeded: 0, failed: 1, cancelled: 0 });
        assert.equal(view.progress.documentsTotal, 6);
        const { items } = (await (await fetch(`${server.url}/v1/jobs/${id}/results`)).json()) as { items: DocumentOutput[] };
        const parent = items.find((item) => item.source === 'mail.eml');
        assert.deepEqual(items.filter((item) => item.parentId === parent?.documentId).map((item) => item.source).sort(), [
          'mail.eml#1/invoice.pdf', 'mail.eml#2/scan.png', 'mail.eml#3/tool.bin', 'mail.eml#4/attachment-4.eml',
        ]);
      } finally {
        await server.close();
      }
    });
  });

  void test('limits: attachments past maxAttachments, maxAttachmentBytes or maxAttachmentDepth are refused with resource_limit, the rest read', { timeout: 120_000 }, async () => {
    const text = (name: string, size: number): { filename: string; contentType: string; content: string } => ({ filename: name, contentType: 'text/plain', content: `${name} `.repeat(size) });
    const many = join(dir, 'many.eml');
    await writeFile(many, makeEmail({ subject: 'Many', body: 'Three files.', attachments: [text('a.txt', 2), text('b.txt', 40), text('c.txt', 2)] }));
    await withReam('embedded', async (ream) => {
      const counted = await ream.submit({ files: [{ path: many, source: 'many.eml' }], options: { maxAttachments: 2 } });
      await ream.wait(counted.id);
      const byCount = bySource(await Array.fromAsync(ream.results(counted.id)));
      assert.deepEqual([...byCount.keys()].sort(), ['many.eml', 'many.eml#1/a.txt', 'many.eml#2/b.txt']);
      const parent = byCount.get('many.eml');
      assert.equal(parent?.status, 'partially_succeeded', 'never a plain success with an attachment left out');
      assert.deepEqual(parent.warnings?.map((w) => [w.page, w.code]), [[1, 'resource_limit']]);
      assert.match(parent.warnings?.[0]?.message ?? '', /attachment 3 \(c\.txt\) not read: .*maxAttachments/);

      const sized = await ream.submit({ files: [{ path: many, source: 'many.eml' }], options: { maxAttachmentBytes: 100 } });
      await ream.wait(sized.id);
      const bySize = bySource(await Array.fromAsync(ream.results(sized.id)));
      assert.deepEqual([...bySize.keys()].sort(), ['many.eml', 'many.eml#1/a.txt', 'many.eml#3/c.txt']);
      assert.match(bySize.get('many.eml')?.warnings?.[0]?.message ?? '', /attachment 2 \(b\.txt\) not read: 240 bytes, over the 100 of maxAttachmentBytes/);

      const shallow = await ream.submit({ files: [{ path: mail, source: 'mail.eml' }], options: { maxAttachmentDepth: 1 } });
      await ream.wait(shallow.id, { signal: AbortSignal.timeout(100_000) });
      const byDepth = bySource(await Array.fromAsync(ream.results(shallow.id)));
      assert.equal(byDepth.size, 5, 'the forwarded message is read, its own attachment is not');
      const forwarded = byDepth.get('mail.eml#4/attachment-4.eml');
      assert.equal(forwarded?.status, 'partially_succeeded');
      assert.match(forwarded.warnings?.[0]?.message ?? '', /notes\.txt.*nested 1 deep, and maxAttachmentDepth is 1/);
      assert.equal(forwarded.pages[0]?.text, 'The original message.', 'its own text is read all the same');

      await assert.rejects(ream.submit({ files: [{ path: many }], options: { maxAttachments: -1 } }), /maxAttachments/);

      // Hundreds of attachments past the limit: the first ones named, one warning for the rest.
      const crowded = join(dir, 'crowded.eml');
      await writeFile(crowded, makeEmail({ subject: 'Crowded', body: 'Many files.', attachments: Array.from({ length: 300 }, (_, i) => text(`f${i + 1}.txt`, 1)) }));
      const capped = await ream.submit({ files: [{ path: crowded, source: 'crowded.eml' }], options: { maxAttachments: 1 } });
      await ream.wait(capped.id, { signal: AbortSignal.timeout(100_000) });
      const warnings = bySource(await Array.fromAsync(ream.results(capped.id))).get('crowded.eml')?.warnings ?? [];
      assert.equal(warnings.length, NAMED_REFUSALS + 1, 'named ones, then one for the rest');
      assert.match(warnings[0]?.message ?? '', /^attachment 2 \(f2\.txt\) not read: the message has 300 attachments; 1 are read/);
      assert.match(warnings.at(-1)?.message ?? '', new RegExp(`^${299 - NAMED_REFUSALS} more attachments not read \\(${NAMED_REFUSALS + 2} to 300\\); the first of them, ${NAMED_REFUSALS + 2} \\(f${NAMED_REFUSALS + 2}\\.txt\\): the message has 300 attachments`));
    });
  });

  void test('real messages (CPython\'s test data): a GIF no reader takes and two cut JPEGs each fail alone, with their own code', { timeout: 120_000 }, async () => {
    await withReam('embedded', async (ream) => {
      const job = await ream.submit({ files: [{ path: join(FIXTURES, 'cpython-msg_07.eml'), source: 'msg_07.eml' }, { path: join(FIXTURES, 'cpython-msg_22.eml'), source: 'msg_22.eml' }] });
      const done = await ream.wait(job.id, { signal: AbortSignal.timeout(100_000) });
      const out = bySource(await Array.fromAsync(ream.results(job.id)));
      assert.deepEqual([...out.keys()].sort(), ['msg_07.eml', 'msg_07.eml#1/dingusfish.gif', 'msg_22.eml', 'msg_22.eml#1/wibble.JPG', 'msg_22.eml#2/wibble2.JPG']);
      assert.equal(out.get('msg_07.eml')?.status, 'succeeded', 'the message itself was read');
      const gif = out.get('msg_07.eml#1/dingusfish.gif');
      assert.equal(gif?.status, 'failed');
      assert.equal(gif.error?.code, 'unsupported_type');
      assert.match(gif.error?.message ?? '', /GIF/);
      for (const name of ['wibble.JPG', 'wibble2.JPG']) {
        const jpeg = out.get(`msg_22.eml#${name === 'wibble.JPG' ? 1 : 2}/${name}`);
        assert.equal(jpeg?.mediaType, 'image/jpeg');
        assert.equal(jpeg.parentId, out.get('msg_22.eml')?.documentId);
        // CPython's data keeps only the JPEGs' first bytes: a picture that cannot be decoded.
        assert.equal(jpeg.error?.code, 'invalid_image');
      }
      assert.equal(out.get('msg_22.eml')?.status, 'succeeded');
      assert.equal(done.status, 'partially_succeeded');
    });
  });
});
