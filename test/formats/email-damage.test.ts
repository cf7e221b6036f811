// Damaged and crowded e-mail: a multipart body cut short (no closing boundary) is read with a
// warning; a part whose base64 is bad is left out with a warning (its text) or refused (an
// attachment), never decoded into garbage; the header limit holds each part's header section
// to 1 MiB, so a message of many attachments is read, and one part over it is invalid_email.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Extraction, Inspection, ReadLimits } from '../../src/formats/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { formatsFixture } from '../support/formats-fixture.ts';
import { makeEmail } from '../support/make-email.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };
const HEAD = ['From: a@example.org', 'To: b@example.org', 'Subject: Damaged', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="B"', ''];

void describe('damaged and crowded e-mail', () => {
  const fixture = formatsFixture('ream-email-damage-', limits);
  const read = async (name: string, lines: readonly string[]): Promise<Inspection & Extraction> => {
    const { inspection, extraction } = await fixture.read(await fixture.file(name, lines.join('\r\n')));
    return { ...inspection, ...extraction };
  };

  void test('a multipart message cut short is read with an invalid_email warning saying so', async () => {
    const mail = await read('cut.eml', [...HEAD, '--B', 'Content-Type: text/plain', '', 'the text before the cut', '--B', 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', 'JVBERi0xLjQK']);
    assert.equal(mail.pages[0]?.text, 'the text before the cut');
    assert.deepEqual(mail.warnings?.map((w) => [w.page, w.code]), [[1, 'invalid_email']]);
    assert.match(mail.warnings?.[0]?.message ?? '', /cut short: its multipart body \(boundary "B"\) has no closing boundary/);
    const whole = await read('whole.eml', [...HEAD, '--B', 'Content-Type: text/plain', '', 'complete', '--B--', '']);
    assert.equal(whole.warnings, undefined, 'a complete message has no warning');
    const encoded = await read('encoded.eml', [...HEAD.slice(0, 4), "Content-Type: multipart/mixed; boundary*=us-ascii''B%5F1", '', '--B_1', 'Content-Type: text/plain', '', 'complete', '--B_1--', '']);
    assert.equal(encoded.warnings, undefined, 'a boundary given RFC 2231-encoded is decoded');
  });

  void test('a text part whose base64 is bad is left out with a warning naming it, not read as garbage', async () => {
    const mail = await read('bad64.eml', [
      ...HEAD,
      '--B', 'Content-Type: text/plain', '', 'the good part',
      '--B', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', 'This is *not* base64 at all!', '',
      '--B--', '',
    ]);
    assert.equal(mail.pages[0]?.text, 'the good part');
    assert.deepEqual(mail.warnings?.map((w) => [w.code, w.message]), [['invalid_email', 'part 2 (text/plain) is not valid base64: its text is left out']]);
  });

  void test('base64 is read as the decoder reads it: units padded on every line, and body text before a footer that is no base64', async () => {
    const single = ['From: a@example.org', 'To: b@example.org', 'Subject: Footer', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', ''];
    const text = 'The message text that must be read. '.repeat(4).trim();
    const footer = await read('footer.eml', [...single, ...Buffer.from(text).toString('base64').match(/.{1,76}/g) ?? [], '', '--', 'Scanned by the gateway. Visit example.com', '']);
    assert.equal(footer.pages[0]?.text, text);
    assert.deepEqual(footer.warnings?.map((w) => [w.code, w.message]), [['invalid_email', 'part 1 (text/plain) ends in 47 bytes that are not base64: they are left out, its text before them is read']]);
    const padded = await read('padded.eml', [...single, Buffer.from('Hello chunk one.').toString('base64'), Buffer.from(' And chunk two.').toString('base64'), '']);
    assert.equal(padded.pages[0]?.text, 'Hello chunk one. And chunk two.');
    assert.equal(padded.warnings, undefined);
  });

  void test('the header limit is per part: 1,500 attachments with 1 KB headers are read; one part of over 1 MiB of header is invalid_email', async () => {
    const long = 'x'.repeat(1000);
    const attachments = Array.from({ length: 1500 }, (_, i) => ({ filename: `f${i + 1}-${long}.txt`, contentType: 'text/plain', content: `file ${i + 1}` }));
    const crowded = await fixture.file('crowded.eml', makeEmail({ subject: 'Crowded', body: 'Many files.', attachments }));
    const { inspection } = await fixture.read(crowded);
    assert.equal(inspection.metadata.attachments?.length, 1500);
    const huge = await fixture.file('huge.eml', [...HEAD, '--B', 'Content-Type: text/plain', ...Array.from({ length: 20_000 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(60)}`), '', 'text', '--B--', ''].join('\r\n'));
    await rejectsWithCode(fixture.read(huge), 'invalid_email', /a header section .* is over 1048576 bytes/);
  });
});

void test('an attachment whose base64 is bad is refused with an invalid_email warning on its message, its name encoded or not; the others are read', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-email-bad64-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  try {
    const good = makeEmail({ subject: 'Files', body: 'Two files.', attachments: [
      { filename: 'bad.txt', contentType: 'text/plain', content: 'x' },
      { filename: 'good.txt', contentType: 'text/plain', content: 'the good file' },
      { filename: `=?utf-8?B?${Buffer.from('Rechnung ä.txt').toString('base64')}?=`, contentType: 'text/plain', content: 'y' },
    ] });
    // The first and the last attachment's base64 ("eA==", "eQ==") made into no base64.
    const path = join(dir, 'files.eml');
    await writeFile(path, good.toString('latin1').replace('\r\neA==\r\n', '\r\n%%% not base64 %%%\r\n').replace('\r\neQ==\r\n', '\r\n!!!\r\n'));
    const job = await ream.submit({ files: [{ path, source: 'files.eml' }] });
    await ream.wait(job.id, { signal: AbortSignal.timeout(100_000) });
    const results = new Map((await Array.fromAsync(ream.results(job.id))).map((r) => [r.source, r]));
    assert.deepEqual([...results.keys()].sort(), ['files.eml', 'files.eml#2/good.txt']);
    assert.equal(results.get('files.eml#2/good.txt')?.pages[0]?.text, 'the good file');
    const parent = results.get('files.eml');
    assert.equal(parent?.pages[0]?.text, 'Two files.');
    assert.deepEqual(parent.warnings?.map((w) => w.code), ['invalid_email', 'invalid_email']);
    assert.match(parent.warnings[0]?.message ?? '', /^attachment 1 \(bad\.txt\) not read: its part \(2 of the message\) is not valid base64/);
    assert.match(parent.warnings[1]?.message ?? '', /^attachment 3 \(Rechnung ä\.txt\) not read: its part \(4 of the message\) is not valid base64/);
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

void test('an attached message whose attachment has bad base64 is stored as written: it refuses that attachment itself, with its own warning', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-email-bad64-fwd-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  try {
    const inner = makeEmail({ subject: 'Inner', body: 'The inner text.', attachments: [{ filename: 'bad.txt', contentType: 'text/plain', content: 'x' }] });
    const outer = makeEmail({ subject: 'Fwd: Inner', body: 'See the message.', attachments: [{ filename: 'inner.eml', contentType: 'message/rfc822', content: inner.toString('latin1') }] });
    const path = join(dir, 'fwd.eml');
    // The inner message's attachment ("eA==") made into no base64.
    await writeFile(path, outer.toString('latin1').replace('\r\neA==\r\n', '\r\n%%% not base64 %%%\r\n'));
    const job = await ream.submit({ files: [{ path, source: 'fwd.eml' }] });
    await ream.wait(job.id, { signal: AbortSignal.timeout(100_000) });
    const results = await Array.fromAsync(ream.results(job.id));
    assert.deepEqual(results.map((r) => r.source).sort(), ['fwd.eml', 'fwd.eml#1/inner.eml'], 'the bad attachment is no document, not even an empty one');
    const innerResult = results.find((r) => r.source === 'fwd.eml#1/inner.eml');
    assert.equal(innerResult?.pages[0]?.text, 'The inner text.');
    assert.deepEqual(innerResult.warnings?.map((w) => w.code), ['invalid_email']);
    assert.match(innerResult.warnings[0]?.message ?? '', /^attachment 1 \(bad\.txt\) not read: its part \(2 of the message\) is not valid base64/);
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});
