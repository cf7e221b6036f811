// E-mail messages with attachments for the tests: RFC 5322 header fields and a multipart/mixed
// body (RFC 2046) whose parts are base64 (RFC 2045), with CRLF line ends as mail goes over the
// wire. Attached messages are `message/rfc822` parts given as an attachment, as mail clients
// forward a message "as attachment".

export interface MailPart {
  /** The attachment's file name; absent: a part without one. */
  filename?: string;
  contentType: string;
  content: Uint8Array | string;
  /** Default `attachment`. */
  disposition?: 'attachment' | 'inline';
}

export interface MailOptions {
  subject: string;
  body: string;
  attachments?: readonly MailPart[];
}

function base64Lines(bytes: Uint8Array | string): string {
  return (Buffer.from(bytes).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** A message as bytes: text body first, then each attachment. */
export function makeEmail(options: MailOptions): Buffer {
  const boundary = `=_ream_${Math.random().toString(36).slice(2)}`;
  const head = [
    'From: Ana <ana@example.org>',
    'To: Bo <bo@example.org>',
    `Subject: ${options.subject}`,
    'Date: Tue, 3 Mar 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
  ];
  const parts = [
    [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', options.body],
    ...(options.attachments ?? []).map((part) => {
      const name = part.filename === undefined ? '' : `; filename="${part.filename}"`;
      const rfc822 = part.contentType === 'message/rfc822';
      return [
        `--${boundary}`,
        `Content-Type: ${part.contentType}`,
        `Content-Disposition: ${part.disposition ?? 'attachment'}${name}`,
        // RFC 2046 §5.2.1: a message/rfc822 part is 7bit, 8bit or binary, never base64.
        ...(rfc822 ? ['', Buffer.from(part.content).toString('utf8')] : ['Content-Transfer-Encoding: base64', '', base64Lines(part.content)]),
      ];
    }),
  ];
  return Buffer.from([...head, ...parts.map((lines) => lines.join('\r\n')), `--${boundary}--`, ''].join('\r\n'));
}
