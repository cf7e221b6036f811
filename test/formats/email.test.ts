// E-mail (.eml, RFC 5322) as a document: header fields as metadata (subject, from, to, date,
// the attachments' names), the body's text (its HTML part made readable when there is no plain
// one). Real messages: CPython's e-mail test data (test/fixtures/README.md).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EMAIL_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import type { Extraction, Inspection, ReadLimits } from '../../src/formats/types.ts';
import { formatsFixture } from '../support/formats-fixture.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };
const FIXTURES = new URL('../fixtures/real/', import.meta.url).pathname;

void describe('e-mail messages', () => {
  const fixture = formatsFixture('ream-email-', limits);
  const read = async (path: string, links = false): Promise<Inspection & Extraction> => {
    const { inspection, extraction } = await fixture.read(path, { links });
    return { ...inspection, ...extraction };
  };
  /** A message as mail goes over the wire: CRLF line ends. */
  const file = (name: string, text: string): Promise<string> => fixture.file(name, text.replace(/\n/g, '\r\n'));

  void test('a real message with an attachment: headers as metadata, the body as text, the attachment named', async () => {
    const mail = await read(join(FIXTURES, 'cpython-msg_07.eml'));
    assert.equal(mail.mediaType, EMAIL_MEDIA_TYPE);
    assert.equal(mail.pageCount, 1);
    assert.equal(mail.metadata.title, 'Here is your dingus fish');
    assert.equal(mail.metadata.from, 'Barry <barry@digicool.com>');
    assert.deepEqual(mail.metadata.to, ['Dingus Lovers <cravindogs@cravindogs.com>']);
    assert.equal(mail.metadata.createdAt, '2001-04-20T23:35:02.000Z', 'Fri, 20 Apr 2001 19:35:02 -0400');
    assert.deepEqual(mail.metadata.attachments, ['dingusfish.gif']);
    assert.equal(mail.pages[0]?.text, 'Hi there,\n\nThis is the dingus fish.');
    assert.doesNotMatch(mail.pages[0]?.text ?? '', /R0lGOD/, 'the attachment is no part of the text');
    const two = await read(join(FIXTURES, 'cpython-msg_22.eml'));
    assert.deepEqual(two.metadata.attachments, ['wibble.JPG', 'wibble2.JPG']);
  });

  void test('an HTML-only message, encoded words and no extension: sniffed from its header fields', async () => {
    const path = await file('message', [
      'From: =?utf-8?q?Ren=C3=A9e?= <renee@example.org>',
      'To: a@example.org, Bob <b@example.org>',
      'Cc: c@example.org',
      'Subject: =?utf-8?b?UsOpc3Vtw6k=?=',
      'Date: Mon, 2 Mar 2026 09:30:00 +0100',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><body><h2>Agenda</h2><p>Read <a href="https://example.org/a">the minutes</a>.</p><script>x()</script></body></html>',
      '',
    ].join('\n'));
    const mail = await read(path);
    assert.equal(mail.mediaType, EMAIL_MEDIA_TYPE);
    assert.equal(mail.metadata.title, 'Résumé');
    assert.equal(mail.metadata.from, 'Renée <renee@example.org>');
    assert.deepEqual(mail.metadata.to, ['a@example.org', 'Bob <b@example.org>', 'c@example.org']);
    assert.equal(mail.metadata.createdAt, '2026-03-02T08:30:00.000Z');
    assert.equal(mail.metadata.attachments, undefined);
    assert.equal(mail.pages[0]?.text, 'Agenda\n\nRead the minutes.');
    assert.match((await read(path, true)).pages[0]?.text ?? '', /the minutes \[https:\/\/example\.org\/a\]/);
  });

  void test('a multipart message whose boundary never appears keeps its body as written, not an empty page', async () => {
    const path = await file('lost.eml', [
      'From: a@example.org', 'To: b@example.org', 'Subject: Lost parts', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="NOPE"', '',
      '--WRONG', 'Content-Type: text/plain', '', 'text under wrong boundary', '--WRONG--', '',
    ].join('\n'));
    const mail = await read(path);
    assert.equal(mail.metadata.title, 'Lost parts');
    assert.match(mail.pages[0]?.text ?? '', /text under wrong boundary/);
    assert.deepEqual(mail.warnings?.map((w) => [w.code, w.message]), [['invalid_email', 'the message\'s multipart body (boundary "NOPE") has no part: its boundary never appears, so the body is read as written']], 'not said to be cut short: it has no part to cut');
  });

  void test('a .eml as mail programs save one: after a mailbox envelope line, a MIME entity without From, a body right after the header', async () => {
    const mbox = await read(await file('mbox.eml', 'From MAILER-DAEMON Fri Apr 06 16:46:09 2001\nFrom: a@example.org\nSubject: From a mailbox\n\nthe body\n'));
    assert.equal(mbox.metadata.title, 'From a mailbox');
    assert.equal(mbox.pages[0]?.text, 'the body');
    const entity = await read(await file('entity.eml', 'Content-Type: multipart/mixed; boundary=ABCDE\n\n--ABCDE\nContent-Type: text/plain\n\nthe part\n--ABCDE--\n'));
    assert.equal(entity.pages[0]?.text, 'the part');
    const fromOnly = await read(await file('from-only.eml', 'From: a@example.org\nContent-Type: text/plain\n\nshort\n'));
    assert.equal(fromOnly.pages[0]?.text, 'short');
    const noGap = await read(await file('no-gap.eml', 'From: a@example.org\nSubject: No gap\nthe body starts here\n'));
    assert.match(noGap.pages[0]?.text ?? '', /the body starts here/);
    const longNoGap = await read(await file('long-no-gap.eml', `From: a@example.org\nSubject: Long, no gap\n${'a body line of no field\n'.repeat(50_000)}`));
    assert.equal(longNoGap.metadata.title, 'Long, no gap', 'a body of over 1 MiB right after the header is no header section over the limit');
    assert.match(longNoGap.pages[0]?.text ?? '', /^a body line of no field\n/);
  });

  void test('a .eml that is no message is invalid_email', async () => {
    await rejectsWithCode(read(await file('notes.eml', 'just some notes\nabout a meeting\n')), 'invalid_email', /header fields/);
  });
});
