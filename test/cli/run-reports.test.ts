// `ream run --template`: a report per document (the document pipelines), by the real binary.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makePdf } from '../support/make-pdf.ts';
import { run } from './run-process.ts';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ream-run-reports-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ream run --template', () => {
  test('one report per document, with its fields; named by --name; a re-run writes nothing new', async () => {
    await writeFile(join(work, 'march.pdf'), await makePdf({ pages: ['Invoice INV-7 for <b>Ada</b>', 'Second page'] }));
    await writeFile(join(work, 'april.pdf'), await makePdf({ pages: ['Invoice INV-9'] }));
    await writeFile(join(work, 'rules.json'), JSON.stringify([{ name: 'invoice', pattern: 'INV-\\d+' }, { name: 'who', pattern: 'for (.+)$' }]));
    await writeFile(join(work, 'doc.liquid'), '<h1>{{ source }}</h1><p>{{ page_count }} page(s), {{ fields.invoice }}, {{ fields.who | default: "nobody" }}</p>');
    const args = ['run', 'march.pdf', 'april.pdf', '--rules', 'rules.json', '--template', 'doc.liquid', '--name', '{{ fields.invoice }}', '--progress', 'none'];
    const first = await run(args, work);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /reports: 2 file\(s\) in .* \(2 written now\)/);
    const [folder, ...others] = await readdir(join(work, 'reports'));
    assert.equal(others.length, 0);
    const dir = join(work, 'reports', folder!);
    assert.deepEqual((await readdir(dir)).sort(), ['INV-7.html', 'INV-9.html']);
    assert.equal(await readFile(join(dir, 'INV-7.html'), 'utf8'), '<h1>march.pdf</h1><p>2 page(s), INV-7, &lt;b&gt;Ada&lt;/b&gt;</p>');
    assert.equal(await readFile(join(dir, 'INV-9.html'), 'utf8'), '<h1>april.pdf</h1><p>1 page(s), INV-9, nobody</p>');

    const again = await run(args, work);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /reports: 2 file\(s\) in .* \(0 written now\)/);
  });
});
