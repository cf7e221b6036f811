import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertRawProblem, raw, startHostile, type Hostile } from './harness.ts';

let h: Hostile;
let auth: Record<string, string>;
const BOUNDARY = 'hostile-boundary';
const MULTIPART = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };

function field(name: string, value: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}
function filePart(name: string, content: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${content}`;
}
const END = `\r\n--${BOUNDARY}--\r\n`;
/** Text long enough that the parser hands some of it on before it sees the body end. */
const TEXT = 'The quick brown fox. '.repeat(5000);

before(async () => {
  h = await startHostile();
  auth = { authorization: `Bearer ${h.keyA}` };
});
after(() => h.close());

function counts(): { jobs: number; documents: number } {
  return { jobs: h.countRows('jobs', 'tenant-a'), documents: h.countRows('documents', 'tenant-a') };
}

describe('malformed multipart is 400 validation_failed and stores nothing half-done', () => {
  const cases: Array<{ what: string; path: string; headers: Record<string, string>; body: string; keepsDocuments?: number }> = [
    { what: 'jobs: no boundary', path: '/v1/jobs', headers: { 'content-type': 'multipart/form-data' }, body: filePart('a.txt', TEXT) + END },
    { what: 'jobs: cut inside the only file', path: '/v1/jobs', headers: MULTIPART, body: field('pipeline', 'extract') + filePart('a.txt', TEXT) },
    { what: 'jobs: cut inside the second file', path: '/v1/jobs', headers: MULTIPART, body: `${filePart('a.txt', 'first file, whole')}\r\n${filePart('b.txt', TEXT)}`, keepsDocuments: 1 },
    { what: 'jobs: cut inside a field', path: '/v1/jobs', headers: MULTIPART, body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="pipeline"\r\n\r\nextr` },
    { what: 'jobs: a malformed part header', path: '/v1/jobs', headers: MULTIPART, body: `--${BOUNDARY}\r\n${'X'.repeat(100_000)}\r\n\r\nx${END}` },
    { what: 'documents: no boundary', path: '/v1/documents', headers: { 'content-type': 'multipart/form-data' }, body: filePart('a.txt', TEXT) + END },
    { what: 'documents: cut inside the file', path: '/v1/documents', headers: MULTIPART, body: filePart('a.txt', TEXT) },
    { what: 'documents: an empty boundary', path: '/v1/documents', headers: { 'content-type': 'multipart/form-data; boundary=' }, body: filePart('a.txt', TEXT) },
  ];
  for (const c of cases) {
    test(c.what, async () => {
      const before = counts();
      const answer = await raw(h, 'POST', c.path, { ...auth, ...c.headers }, c.body);
      assertRawProblem(answer, 400, 'validation_failed', c.what);
      const now = counts();
      assert.equal(now.jobs, before.jobs, 'no job was created');
      // A whole file before the cut stays as a document (documented); the cut one never does.
      assert.equal(now.documents, before.documents + (c.keepsDocuments ?? 0), 'no document for a cut part');
    });
  }

  test('the server still takes a well-formed upload afterwards', async () => {
    const answer = await raw(h, 'POST', '/v1/documents', { ...auth, ...MULTIPART }, filePart('ok.txt', 'fine') + END);
    assert.equal(answer.status, 201, answer.body);
  });
});

describe('a job\'s fields as multipart say what is wrong with them', () => {
  test('a field given twice is 400 naming it, not one of the two taken without a word', async () => {
    const before = counts();
    const answer = await raw(h, 'POST', '/v1/jobs', { ...auth, ...MULTIPART }, field('options', '{"maxPages":1}') + field('options', '{}') + filePart('a.txt', 'text') + END);
    assertRawProblem(answer, 400, 'validation_failed');
    assert.match((JSON.parse(answer.body) as { detail: string }).detail, /"options" is given more than once/);
    assert.deepEqual(counts(), before);
  });

  test('a "file" part without a filename is 400 saying a file part needs one, not that "file" is unknown', async () => {
    const answer = await raw(h, 'POST', '/v1/jobs', { ...auth, ...MULTIPART }, `${field('file', 'text')}${END.slice(2)}`);
    assertRawProblem(answer, 400, 'validation_failed');
    const { detail } = JSON.parse(answer.body) as { detail: string };
    assert.doesNotMatch(detail, /unknown field/);
    assert.match(detail, /filename/);
  });
});
