// The e-mail tasks a pool thread runs (see src/runtime/pool-worker.ts): `email.inspect` (the
// header fields as metadata, the attachments' names) and `email.extract` (the body's text: its
// text/plain part, else its HTML part made readable as any page). postal-mime parses the
// message (MIME parts, encoded words, charsets), with a cap on nesting and header size.
// Attachments are named in the metadata, and `email.unpack` writes them out as files, which the
// engine stores as child documents of the message (src/runtime/child-documents.ts).
import { readFile } from 'node:fs/promises';
import PostalMime, { type Address, type Email } from 'postal-mime';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import { htmlText } from '../html/html-text.ts';
import { messageAttachments, writeAttachments, type UnpackInput } from './email-attachments.ts';
import { looksLikeEmail } from '../sniff.ts';
import type { DocumentMetadata, TaskHandler } from '../types.ts';
import type { WholeExtractInput, WholeExtractResult, WholeInspectInput, WholeInspectResult } from '../whole-document-format.ts';
import { fileIoError } from '../file-checks.ts';

/** Deeper MIME nesting than this is a hostile message, not mail. */
const MAX_NESTING = 20;
const MAX_HEADER_BYTES = 1024 * 1024;

async function parse(path: string): Promise<Email> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw fileIoError('read', error);
  });
  // The name said .eml: the content must agree (header fields up to an empty line).
  if (!looksLikeEmail(bytes.subarray(0, 64 * 1024))) {
    throw ReamError.nonRetryable('invalid_email', 'the file is not an e-mail message: it does not start with header fields (From:, To:, Subject:, Date: …) and an empty line');
  }
  try {
    return await PostalMime.parse(bytes, { maxNestingDepth: MAX_NESTING, maxHeadersSize: MAX_HEADER_BYTES, attachmentEncoding: 'arraybuffer' });
  } catch (error) {
    throw ReamError.nonRetryable('invalid_email', `the message cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** `Name <address>`, or the address alone; a group's members, joined. */
function mailboxes(addresses: readonly Address[] | undefined): string[] {
  return (addresses ?? []).flatMap((a) => (a.group ? a.group : [a])).map((m) => (m.name ? `${m.name} <${m.address}>` : m.address)).filter(Boolean);
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path } = fromJson<WholeInspectInput>(input);
  const mail = await parse(path);
  const [from] = mailboxes(mail.from ? [mail.from] : undefined);
  const to = mailboxes([...(mail.to ?? []), ...(mail.cc ?? [])]);
  const date = mail.date === undefined ? Number.NaN : Date.parse(mail.date);
  const attachments = messageAttachments(mail).map((a) => a.name);
  const out: DocumentMetadata = {
    title: mail.subject?.trim() || undefined,
    author: from,
    from,
    ...(to.length > 0 ? { to } : {}),
    createdAt: Number.isNaN(date) ? undefined : new Date(date).toISOString(),
    ...(attachments.length > 0 ? { attachments } : {}),
  };
  const result: WholeInspectResult = { metadata: Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) };
  return asJson(result);
}

/**
 * The body as written, after the header fields: for a message in which the parser found no part
 * at all (a multipart message whose boundary never appears), whose text would otherwise be lost.
 */
async function rawBody(path: string): Promise<string> {
  const bytes = await readFile(path);
  const end = /\r?\n\r?\n/.exec(bytes.subarray(0, MAX_HEADER_BYTES).toString('latin1'));
  return end ? new TextDecoder('utf-8').decode(bytes.subarray(end.index + end[0].length)).replace(/\r\n?/g, '\n').trim() : '';
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const { path, links } = fromJson<WholeExtractInput>(input);
  const mail = await parse(path);
  let text = mail.text?.trim() ? mail.text.replace(/\r\n?/g, '\n').trim() : mail.html ? htmlText(mail.html, links) : '';
  if (text === '' && !mail.html && mail.attachments.length === 0) text = await rawBody(path);
  const result: WholeExtractResult = { text };
  return asJson(result);
}

async function unpack(input: JsonValue): Promise<JsonValue> {
  const { path, dir, limits } = fromJson<UnpackInput>(input);
  return asJson(await writeAttachments(messageAttachments(await parse(path)), dir, limits));
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'email.inspect': inspect,
  'email.extract': extract,
  'email.unpack': unpack,
};
