// A file that cannot be opened or read is `io_error` with the reason, never the server's own
// path (its blob store, a local copy of an S3 object): a tenant reads these messages.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileSize, readHead } from '../../src/formats/file-checks.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import { makePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

test('open and read failures say why, not where', async () => {
  const missing = join(tmpdir(), 'ream-no-such-dir', 'secret-place.pdf');
  for (const failing of [readHead(missing, { maxBytes: 10 }), fileSize(missing)]) {
    const error = await failing.then(() => assert.fail('read a missing file'), (caught: unknown) => caught as { code: string; message: string });
    assert.equal(error.code, 'io_error');
    assert.match(error.message, /ENOENT/);
    assert.ok(!error.message.includes('secret-place'), error.message);
  }
});

for (const mode of MODES) {
  test(`${mode}: a job over a document whose stored bytes are gone fails it with io_error, naming no server path or bucket`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream, s3 }) => {
      const doc = await ream.storeDocument(Readable.from([Buffer.from(await makePdf({ pages: ['gone soon'] }))]), 'gone.pdf');
      await engineOf(ream).ports.blobs.delete(doc.sha256); // a disk fault, an operator's mistake
      const { job } = await ream.submitJob({ files: [{ documentId: doc.id }] });
      await ream.wait(job.id);
      const [result] = await Array.fromAsync(ream.results(job.id));
      assert.equal(result?.status, 'failed');
      assert.equal(result.error?.code, 'io_error');
      const message = result.error?.message ?? '';
      assert.ok(!message.includes(ream.dataDir) && !message.includes(tmpdir()) && (s3 === undefined || !message.includes(s3.bucket)), message);
    });
  });
}
