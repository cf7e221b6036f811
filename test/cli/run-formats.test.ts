// `ream run` over a folder of every format ream reads besides PDF: images (read by OCR, a TIFF
// one page per frame), Word, HTML, e-mail and text, with bad files among them that fail alone
// with their codes. Real files from Debian, npm packages and CPython sit beside made ones.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixturesDir } from '../support/env.ts';
import { makeImage, makeTiff } from '../support/make-image.ts';
import { readLines } from './lines.ts';
import { run } from './run-process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-cli-formats-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const real = (name: string): string => join(fixturesDir, 'real', name);

describe('ream run over a mixed folder', () => {
  test('each format read with its own reader; bad files fail alone with their codes; --ocr never is a partial success', async () => {
    const work = join(dir, 'mixed');
    await mkdir(join(work, 'in'), { recursive: true });
    await writeFile(join(work, 'in/receipt.png'), makeImage(['Receipt 2291 paid in full'], 'image/png'));
    await writeFile(join(work, 'in/fax.tiff'), makeTiff([['Fax cover sheet'], ['Signed contract attached']]));
    await copyFile(real('mammoth-tables.docx'), join(work, 'in/tables.docx'));
    await copyFile(real('base-passwd-users-and-groups.html'), join(work, 'in/users.html'));
    await copyFile(real('cpython-msg_07.eml'), join(work, 'in/dingus.eml'));
    await writeFile(join(work, 'in/notes.txt'), 'plain notes\n');
    await writeFile(join(work, 'in/not-a-picture.png'), 'hello');
    // A .docx that is a letter saved as plain text: not a ZIP at all.
    await writeFile(join(work, 'in/fake.docx'), 'Dear Sir,\nplease find the contract attached.\n');
    // A Word document whose directory declares a 900 MiB document part.
    const docx = await readFile(real('mammoth-tables.docx'));
    for (let at = docx.indexOf('PK\x01\x02', 0, 'latin1'); at !== -1; at = docx.indexOf('PK\x01\x02', at + 4, 'latin1')) {
      if (docx.toString('latin1', at + 46, at + 46 + docx.readUInt16LE(at + 28)) === 'word/document.xml') docx.writeUInt32LE(900 * 2 ** 20, at + 24);
    }
    await writeFile(join(work, 'in/bomb.docx'), docx);

    const result = await run(['run', 'in', '--out', 'out.jsonl', '--progress', 'none', '--threads', '2'], work);
    assert.equal(result.code, 1, `bad files fail the run\n${result.stderr}`);
    assert.match(result.stdout, /6 succeeded, 4 failed/, 'the e-mail\'s GIF attachment has a line of its own');
    const byPath = new Map(readLines(join(work, 'out.jsonl')).map((l) => [l.path, l]));
    const png = byPath.get('in/receipt.png');
    assert.equal(png?.status, 'succeeded');
    assert.equal(png?.mediaType, 'image/png');
    assert.equal(png?.pages?.[0]?.source, 'ocr');
    assert.match(png?.pages?.[0]?.text ?? '', /Receipt 2291 paid in full/);
    assert.deepEqual(byPath.get('in/fax.tiff')?.pages?.map((p) => [p.page, p.source]), [[1, 'ocr'], [2, 'ocr']]);
    assert.match(byPath.get('in/fax.tiff')?.pages?.[1]?.text ?? '', /Signed contract attached/);
    assert.match(byPath.get('in/tables.docx')?.pages?.[0]?.text ?? '', /Top left\s+Top right/);
    assert.equal(byPath.get('in/users.html')?.metadata?.title, 'Users and Groups in the Debian System');
    const dingus = byPath.get('in/dingus.eml');
    assert.deepEqual(dingus?.metadata?.attachments, ['dingusfish.gif']);
    assert.equal(dingus.status, 'succeeded');
    const gif = byPath.get('in/dingus.eml#1/dingusfish.gif');
    assert.equal(gif?.parentId, dingus.documentId, 'an attachment is a child document of its message');
    assert.equal(gif?.error?.code, 'unsupported_type');

    // A run stopped between a message's line and its attachment's: the resumed run writes the
    // attachment's line, and no other line again.
    const out = join(work, 'out.jsonl');
    const kept = (await readFile(out, 'utf8')).split('\n').filter((line) => line && !line.includes('"path":"in/dingus.eml#1/'));
    await writeFile(out, `${kept.join('\n')}\n`);
    const resumed = await run(['run', 'in', '--out', 'out.jsonl', '--progress', 'none', '--threads', '2'], work);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stdout, /done: 0 succeeded, 1 failed, 9 already done \(resumed; 3 of them did not succeed\) of 10 file\(s\)/);
    // Once every line is there, the attachment counts among the files done, as it did when written.
    const complete = await run(['run', 'in', '--out', 'out.jsonl', '--progress', 'none', '--threads', '2'], work);
    assert.match(complete.stdout, /done: 0 succeeded, 0 failed, 10 already done \(resumed; 4 of them did not succeed\) of 10 file\(s\)/);
    const again = readLines(out);
    assert.equal(again.length, byPath.size, 'every line once');
    assert.equal(again.at(-1)?.path, 'in/dingus.eml#1/dingusfish.gif');
    assert.equal(byPath.get('in/notes.txt')?.status, 'succeeded');
    assert.equal(byPath.get('in/not-a-picture.png')?.error?.code, 'invalid_image');
    assert.equal(byPath.get('in/fake.docx')?.error?.code, 'invalid_docx');
    assert.equal(byPath.get('in/bomb.docx')?.error?.code, 'resource_limit');

    const never = await run(['run', 'in/fax.tiff', '--ocr', 'never', '--out', 'never.jsonl', '--progress', 'none'], work);
    assert.equal(never.code, 1, 'a partial success is not a success');
    const [line] = readLines(join(work, 'never.jsonl'));
    assert.equal(line?.status, 'partially_succeeded');
    assert.deepEqual(line?.warnings?.map((w) => [w.page, w.code]), [[1, 'needs_ocr'], [2, 'needs_ocr']]);
    assert.deepEqual(line?.pages?.map((p) => p.text), ['', '']);

    const none = await run(['run', 'in/dingus.eml', '--max-attachments', '0', '--out', 'none.jsonl', '--progress', 'none'], work);
    assert.equal(none.code, 1, none.stderr);
    const lines = readLines(join(work, 'none.jsonl'));
    assert.equal(lines.length, 1, 'no attachment read: no child line');
    assert.equal(lines[0]?.status, 'partially_succeeded');
    assert.deepEqual(lines[0]?.warnings?.map((w) => [w.page, w.code]), [[1, 'resource_limit']]);
  });
});
