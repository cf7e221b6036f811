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
import { MAX_PART_HEADER_BYTES, scanMime, type MimeScan } from './mime-scan.ts';
import { hasMboxEnvelope, looksLikeEmail } from '../sniff.ts';
import type { DocumentMetadata, TaskHandler } from '../types.ts';
import type { WholeExtractInput, WholeExtractResult, WholeInspectInput, WholeInspectResult, WholeWarning } from '../whole-document-format.ts';
import { fileIoError } from '../file-checks.ts';

/** Deeper MIME nesting than this is a hostile message, not mail. */
const MAX_NESTING = 20;
/**
 * The whole message's header sections at most, together: each is held to
 * {@link MAX_PART_HEADER_BYTES} on its own (mime-scan.ts), and this bounds what thousands of
 * parts may hold in memory (the parser counts a line as at least 64 bytes).
 */
const MAX_MESSAGE_HEADER_BYTES = 16 * 1024 * 1024;

interface ParsedMail {
  mail: Email;
  scan: MimeScan;
}

async function parse(path: string): Promise<ParsedMail> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw fileIoError('read', error);
  });
  // The name said .eml: the content must agree (header fields up to an empty line).
  if (!looksLikeEmail(bytes.subarray(0, 64 * 1024), true)) {
    throw ReamError.nonRetryable('invalid_email', 'the file is not an e-mail message: it does not start with header fields (From:, To:, Subject:, Date: …) and an empty line');
  }
  // A message saved from a mailbox starts with its envelope line (`From sender date`): not a
  // header field, it would end the header before it began.
  const scan = scanMime(hasMboxEnvelope(bytes) ? bytes.subarray(bytes.indexOf(0x0a) + 1) : bytes);
  try {
    const mail = await PostalMime.parse(scan.bytes, { maxNestingDepth: MAX_NESTING, maxHeadersSize: MAX_MESSAGE_HEADER_BYTES, attachmentEncoding: 'arraybuffer' });
    return { mail, scan };
  } catch (error) {
    throw ReamError.nonRetryable('invalid_email', `the message cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** What the scan found wrong with the message's parts, as the page's warnings. */
function scanWarnings(scan: MimeScan): WholeWarning[] {
  return [
    ...scan.undelimited.map((boundary): WholeWarning => ({
      code: 'invalid_email',
      message: `the message's multipart body (boundary "${boundary}") has no part: its boundary never appears, so the body is read as written`,
    })),
    ...scan.cutShort.map((boundary): WholeWarning => ({
      code: 'invalid_email',
      message: `the message is cut short: its multipart body (boundary "${boundary}") has no closing boundary, so its last part may be incomplete`,
    })),
    // An attachment's is said where it is refused (email-attachments.ts).
    ...scan.badBase64.filter((part) => part.bodyText).map((part): WholeWarning => ({
      code: 'invalid_email',
      message: part.leftOutBytes === undefined
        ? `part ${part.part} (${part.mimeType}) is not valid base64: its text is left out`
        : `part ${part.part} (${part.mimeType}) ends in ${part.leftOutBytes} bytes that are not base64: they are left out, its text before them is read`,
    })),
  ];
}

/** `Name <address>`, or the address alone; a group's members, joined. */
function mailboxes(addresses: readonly Address[] | undefined): string[] {
  return (addresses ?? []).flatMap((a) => (a.group ? a.group : [a])).map((m) => (m.name ? `${m.name} <${m.address}>` : m.address)).filter(Boolean);
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path } = fromJson<WholeInspectInput>(input);
  const { mail } = await parse(path);
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
  const end = /\r?\n\r?\n/.exec(bytes.subarray(0, MAX_PART_HEADER_BYTES).toString('latin1'));
  return end ? new TextDecoder('utf-8').decode(bytes.subarray(end.index + end[0].length)).replace(/\r\n?/g, '\n').trim() : '';
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const { path, links } = fromJson<WholeExtractInput>(input);
  const { mail, scan } = await parse(path);
  let text = mail.text?.trim() ? mail.text.replace(/\r\n?/g, '\n').trim() : mail.html ? htmlText(mail.html, links) : '';
  if (text === '' && !mail.html && mail.attachments.length === 0 && scan.badBase64.length === 0) text = await rawBody(path);
  const warnings = scanWarnings(scan);
  const result: WholeExtractResult = { text, ...(warnings.length > 0 ? { warnings } : {}) };
  return asJson(result);
}

async function unpack(input: JsonValue): Promise<JsonValue> {
  const { path, dir, limits } = fromJson<UnpackInput>(input);
  const { mail, scan } = await parse(path);
  return asJson(await writeAttachments(messageAttachments(mail, scan.badBase64), dir, limits));
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'email.inspect': inspect,
  'email.extract': extract,
  'email.unpack': unpack,
};
