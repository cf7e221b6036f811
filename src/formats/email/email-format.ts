// E-mail as a document: one page (see whole-document-format.ts), and its attachments written out
// by `email.unpack` in the thread pool, for the engine to store as child documents.
import { asJson } from '../../json.ts';
import { fileSize, throwIfCancelled } from '../file-checks.ts';
import { EMAIL_MEDIA_TYPE, extensionsOf } from '../sniff.ts';
import type { DocumentFormat, TaskRunner, Unpacked } from '../types.ts';
import { createWholeDocumentFormat } from '../whole-document-format.ts';
import type { UnpackInput } from './email-attachments.ts';

export function createEmailFormat(runner: TaskRunner): DocumentFormat {
  return {
    ...createWholeDocumentFormat(runner, EMAIL_MEDIA_TYPE, extensionsOf(EMAIL_MEDIA_TYPE), 'email'),
    async unpack(path, dir, limits, signal) {
      throwIfCancelled(signal);
      const input: UnpackInput = { path, dir, limits };
      // The message in memory and its attachments decoded beside it: about twice the file.
      return runner.run<Unpacked>('email.unpack', asJson(input), { signal, extraMemoryBytes: 2 * (await fileSize(path)) });
    },
  };
}
