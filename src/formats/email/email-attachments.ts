// An e-mail's attachments as files: the parts a user sees as attached (a file name, or not shown
// inline), numbered 1… in the message's order, each written under a plain file name. The index
// is what identifies an attachment across repeats (the engine names the child `<source>#<index>/<name>`).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Attachment, Email } from 'postal-mime';
import type { AttachmentLimits, InnerFile, InnerFileRefusal, Unpacked } from '../types.ts';
import type { BadBase64Part } from './mime-scan.ts';

export type UnpackInput = { path: string; dir: string; limits: Pick<AttachmentLimits, 'maxFiles' | 'maxFileBytes'> };

export interface MessageAttachment {
  index: number;
  name: string;
  part: Attachment;
  /** Set when the part's base64 is bad (mime-scan.ts): it is refused, not written out. */
  invalid?: BadBase64Part;
}

/** Extensions for attachments that came without a file name, so that their reader is found by content and name alike. */
const EXTENSION_BY_TYPE: Readonly<Record<string, string>> = {
  'message/rfc822': '.eml',
  'application/pdf': '.pdf',
  'text/plain': '.txt',
  'text/html': '.html',
  'text/csv': '.csv',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/tiff': '.tif',
  'image/webp': '.webp',
};

/** The attachment's own name without folders or control characters, else `attachment-<index>` and an extension for its type. */
function plainName(part: Attachment, index: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const own = (part.filename ?? '').replace(/[\u0000-\u001f\u007f]/g, '').split(/[/\\]/).pop()?.trim() ?? '';
  if (own && own !== '.' && own !== '..') return own;
  return `attachment-${index}${EXTENSION_BY_TYPE[part.mimeType] ?? ''}`;
}

/**
 * The parts a reader sees as attached: named ones, and any not shown inline in the body. Those
 * of `badBase64` (their bodies were left out for the parser, so they came out empty) are marked
 * `invalid`, matched in order by type and file name, or by type alone: the scan does not decode
 * a name written as RFC 2047 encoded words or RFC 2231 continuations, as the parser does.
 */
export function messageAttachments(mail: Email, badBase64: readonly BadBase64Part[] = []): MessageAttachment[] {
  const unmatched = badBase64.filter((bad) => !bad.bodyText);
  const matching = (part: Attachment): number => {
    if (bytesOf(part).byteLength > 0) return -1;
    const named = unmatched.findIndex((bad) => bad.mimeType === part.mimeType && (bad.filename ?? null) === (part.filename ?? null));
    return named === -1 ? unmatched.findIndex((bad) => bad.mimeType === part.mimeType) : named;
  };
  return mail.attachments
    .filter((part) => part.disposition !== 'inline' || part.filename)
    .map((part, i) => {
      const at = matching(part);
      const [invalid] = at === -1 ? [] : unmatched.splice(at, 1);
      return { index: i + 1, name: plainName(part, i + 1), part, ...(invalid ? { invalid } : {}) };
    });
}

function bytesOf(part: Attachment): Uint8Array {
  if (typeof part.content !== 'string') return part.content instanceof Uint8Array ? part.content : new Uint8Array(part.content);
  return Buffer.from(part.content, part.encoding === 'base64' ? 'base64' : 'utf8');
}

/** Writes each attachment within the limits to `dir/<index>`; the others are refused with `resource_limit`, a bad one with `invalid_email`. */
export async function writeAttachments(attachments: readonly MessageAttachment[], dir: string, limits: UnpackInput['limits']): Promise<Unpacked> {
  const files: InnerFile[] = [];
  const refused: InnerFileRefusal[] = [];
  for (const { index, name, part, invalid } of attachments) {
    const bytes = bytesOf(part);
    if (invalid) {
      refused.push({ index, name, code: 'invalid_email', message: `its part (${invalid.part} of the message) is not valid base64` });
    } else if (index > limits.maxFiles) {
      refused.push({ index, name, code: 'resource_limit', message: `the message has ${attachments.length} attachments; ${limits.maxFiles} are read (maxAttachments)` });
    } else if (bytes.byteLength > limits.maxFileBytes) {
      refused.push({ index, name, code: 'resource_limit', message: `${bytes.byteLength} bytes, over the ${limits.maxFileBytes} of maxAttachmentBytes` });
    } else {
      const path = join(dir, String(index));
      await writeFile(path, bytes);
      files.push({ index, name, path, size: bytes.byteLength });
    }
  }
  return { files, refused };
}
