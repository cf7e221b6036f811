import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { makeScannedPdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { fixturesDir } from '../support/env.ts';
import { readLines } from './lines.ts';
import { run, start } from './run-process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ream run', () => {
  test('one correct line per file, a summary, exit 1 when any failed, and a resume that redoes nothing', async () => {
    const work = join(dir, 'basic');
    await mkdir(join(work, 'docs/sub'), { recursive: true });
    await writePdf(join(work, 'docs/a.pdf'), { pages: numberedPages('A', 3), title: 'Doc A' });
    await writePdf(join(work, 'docs/sub/b.pdf'), { pages: numberedPages('B', 1) });
    await copyFile(join(work, 'docs/a.pdf'), join(work, 'docs/a-copy.pdf')); // same content, two files
    await writeFile(join(work, 'docs/empty.pdf'), '');
    await writeFile(join(work, 'docs/.hidden.pdf'), 'ignored');
    await copyFile(join(fixturesDir, 'encrypted-user-password.pdf'), join(work, 'docs/locked.pdf'));

    const first = await run(['run', 'docs', '--out', 'out.jsonl', '--progress', 'lines'], work);
    assert.equal(first.code, 1, `exit 1 when a file failed\n${first.stderr}`);
    assert.match(first.stdout, /3 succeeded, 2 failed/);
    assert.match(first.stdout, /pages\/s/);
    assert.match(first.stderr, /empty_file/);
    // The first progress line counts the files named, before any is stored: not "0/1 documents, 0/0 pages".
    assert.match(first.stderr.split('\n')[0] ?? '', /^progress: 0\/5 files, 0 pages \(counting\), ETA \?$/);
    const lines = readLines(join(work, 'out.jsonl'));
    const byPath = new Map(lines.map((l) => [l.path, l]));
    assert.deepEqual([...byPath.keys()].sort(), ['docs/a-copy.pdf', 'docs/a.pdf', 'docs/empty.pdf', 'docs/locked.pdf', 'docs/sub/b.pdf']);
    assert.equal(lines.length, 5, 'exactly one line per file');
    assert.equal(byPath.get('docs/a.pdf')?.pageCount, 3);
    assert.match(byPath.get('docs/a.pdf')?.pages?.[1]?.text ?? '', /A page 2 of 3/);
    assert.equal(byPath.get('docs/a-copy.pdf')?.sha256, byPath.get('docs/a.pdf')?.sha256);
    assert.equal(byPath.get('docs/empty.pdf')?.error?.code, 'empty_file');
    assert.equal(byPath.get('docs/locked.pdf')?.error?.code, 'encrypted_pdf');

    // The output exists, so the next run resumes: nothing is redone, a new file is added.
    await writePdf(join(work, 'docs/c.pdf'), { pages: numberedPages('C', 2) });
    const second = await run(['run', 'docs', '--out', 'out.jsonl', '--progress', 'none'], work);
    assert.match(second.stdout, /1 succeeded, 0 failed, 5 already done \(resumed; 2 of them did not succeed\) of 6 file\(s\)/);
    assert.equal(second.code, 1, 'the files the first run failed have still not succeeded: a resume is no false success');
    const jobOf = (stdout: string): string | undefined => /^job: (job_[0-9a-f-]+)$/m.exec(stdout)?.[1];
    assert.ok(jobOf(first.stdout), 'the summary names the job');
    assert.equal(jobOf(second.stdout), jobOf(first.stdout), 'a resume carries on the same job');
    const after = readLines(join(work, 'out.jsonl'));
    assert.equal(after.length, 6);
    assert.equal(new Set(after.map((l) => l.path)).size, 6);

    const full = await run(['run', 'docs/a.pdf', '--out', 'full.jsonl', '--text', 'full', '--no-resume', '--progress', 'none'], work);
    assert.equal(full.code, 0, full.stderr);
    assert.match(readLines(join(work, 'full.jsonl'))[0]?.text ?? '', /A page 1 of 3[\s\S]*\f[\s\S]*A page 2 of 3/);
    // After a --no-resume run, the same command resumes that new run.
    const again = await run(['run', 'docs/a.pdf', '--out', 'full.jsonl', '--text', 'full', '--progress', 'none'], work);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 succeeded, 0 failed, 1 already done/);
    assert.equal(readLines(join(work, 'full.jsonl')).length, 1);
  });

  test('--text none writes the same lines without text, keeps the text in the checkpoints only; --no-index leaves search empty', async () => {
    const work = join(dir, 'text-none');
    await mkdir(work, { recursive: true });
    await writePdf(join(work, 'a.pdf'), { pages: numberedPages('Quokka', 3) });
    const pages = await run(['run', 'a.pdf', '--out', 'pages.jsonl', '--data-dir', 'pages-data', '--progress', 'none'], work);
    assert.equal(pages.code, 0, pages.stderr);
    const none = await run(['run', 'a.pdf', '--out', 'none.jsonl', '--data-dir', 'none-data', '--text', 'none', '--no-index', '--progress', 'none'], work);
    assert.equal(none.code, 0, none.stderr);
    const [withPages] = readLines(join(work, 'pages.jsonl'));
    const [without] = readLines(join(work, 'none.jsonl'));
    assert.ok(withPages && without);
    assert.equal(withPages.pages?.length, 3);
    const { pages: _pages, ...rest } = withPages;
    assert.deepEqual(without, rest, 'the same line, less the pages');

    const ream = await createReam({ dataDir: join(work, 'none-data') });
    try {
      const [job] = (await ream.listJobs({ tenantId: 'local' })).items;
      assert.ok(job);
      const [doc] = await ream.jobDocuments(job.id);
      assert.ok(doc);
      const stored = (await ream.documentResult(job.id, doc.documentId))?.output as { pages: unknown[]; pagesOmitted?: boolean } | undefined;
      assert.deepEqual(stored?.pages, [], 'the document result holds no text');
      assert.equal(stored?.pagesOmitted, true);
      const read: string[] = [];
      for await (const page of ream.documentPages(job.id, doc.documentId)) read.push(page.read?.text ?? '');
      assert.match(read[2] ?? '', /Quokka page 3 of 3/, 'the text is still there, page by page');
      assert.deepEqual(await ream.search('Quokka'), [], '--no-index: nothing indexed');
    } finally {
      await ream.close();
    }
  });

  test('a pile of tiny files read faster than they go in: the job ends once, after the last', async () => {
    const work = join(dir, 'tiny');
    await mkdir(join(work, 'notes'), { recursive: true });
    for (let i = 0; i < 60; i++) await writeFile(join(work, 'notes', `note-${i}.txt`), `note ${i}\n`);
    const result = await run(['run', 'notes', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'none'], work);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readLines(join(work, 'out.jsonl')).length, 60);
    const ream = await createReam({ dataDir: join(work, 'data'), work: false });
    try {
      const [job] = (await ream.listJobs({ tenantId: 'local' })).items;
      assert.equal(job?.status, 'succeeded');
      const types = (await ream.listEvents(job.id, 0, 1000)).map((event) => event.type);
      assert.deepEqual(types.filter((type) => type.startsWith('job.') && type !== 'job.progress'), ['job.queued', 'job.started', 'job.completed'],
        'held open while its files went in, the job neither ended nor reopened before the last');
    } finally {
      await ream.close();
    }
  });

  test('usage errors exit 2 with a clear message', async () => {
    const missing = await run(['run', 'no-such-dir'], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file or directory: no-such-dir \[not_found\]/);
    await mkdir(join(dir, 'empty-folder/.hidden'), { recursive: true });
    await writeFile(join(dir, 'empty-folder/.hidden/x.pdf'), 'hidden');
    const empty = await run(['run', 'empty-folder'], dir);
    assert.equal(empty.code, 2, 'a folder with no file is said, as a glob that matches nothing is');
    assert.match(empty.stderr, /no file in empty-folder \(hidden files are left out\) \[validation_failed\]/);
    // An --out that names someone's file (not one ream wrote) is not resumed: cutting its "torn"
    // last line and appending would lose their data.
    const notes = 'important notes\nline two without newline';
    await writeFile(join(dir, 'notes.txt'), notes);
    await writeFile(join(dir, 'x.txt'), 'x\n');
    const notResults = await run(['run', 'x.txt', '-o', 'notes.txt', '--progress', 'none', '--data-dir', 'notes-data'], dir);
    assert.equal(notResults.code, 2, notResults.stderr);
    assert.match(notResults.stderr, /notes\.txt exists and is not a ream results file .*--no-resume.*\[validation_failed\]/);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), notes, 'left as it was');
    const badFlag = await run(['run', '.', '--concurrency', '0'], dir);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /positive integer/);
  });

  test('resuming a results file with other settings is refused, not silently answered with the old lines', async () => {
    const work = join(dir, 'settings');
    await mkdir(work, { recursive: true });
    await writePdf(join(work, 'a.pdf'), { pages: numberedPages('S', 1) });
    const first = await run(['run', 'a.pdf', '--out', 'out.jsonl', '--text', 'none', '--progress', 'none'], work);
    assert.equal(first.code, 0, first.stderr);
    const other = await run(['run', 'a.pdf', '--out', 'out.jsonl', '--text', 'full', '--progress', 'none'], work);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /out\.jsonl holds results made with other settings \([^)]*text differ\): run with --no-resume .*\[validation_failed\]/);
    const again = await run(['run', 'a.pdf', '--out', 'out.jsonl', '--text', 'none', '--progress', 'none'], work);
    assert.match(again.stdout, /1 already done/, 'the same settings resume');
    const fresh = await run(['run', 'a.pdf', '--out', 'out.jsonl', '--text', 'full', '--no-resume', '--progress', 'none'], work);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(readLines(join(work, 'out.jsonl'))[0]?.text ?? '', /S page 1 of 1/);
  });

  test('--out - writes the lines to standard output and the summary to stderr', async () => {
    const work = join(dir, 'stdout');
    await mkdir(work, { recursive: true });
    await writePdf(join(work, 'a.pdf'), { pages: numberedPages('O', 2) });
    await writeFile(join(work, 'b.txt'), 'plain\n');
    const piped = await run(['run', 'a.pdf', 'b.txt', '--out', '-', '--progress', 'none'], work);
    assert.equal(piped.code, 0, piped.stderr);
    const lines = piped.stdout.trim().split('\n').map((line) => JSON.parse(line) as { path: string; status: string });
    assert.deepEqual(lines.map((line) => [line.path, line.status]).sort(), [['a.pdf', 'succeeded'], ['b.txt', 'succeeded']]);
    assert.match(piped.stderr, /done: 2 succeeded, 0 failed of 2 file\(s\)[\s\S]*results: standard output/);
    assert.equal(existsSync(join(work, '-')), false, 'no file named "-"');
  });

  test('--out - whose reader goes away before the last line (`| head -1`) exits 141, as a command SIGPIPE killed, never 0', async () => {
    const work = join(dir, 'closed-pipe');
    await mkdir(join(work, 'notes'), { recursive: true });
    for (let i = 0; i < 150; i++) await writeFile(join(work, 'notes', `note-${i}.txt`), `note ${i}\n`);
    const child = start(['run', 'notes', '--out', '-', '--progress', 'none'], work);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // As `head -1` does: read the first line, then close the pipe.
    child.stdout?.once('data', () => child.stdout?.destroy());
    const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
    assert.equal(code, 141, stderr);
    assert.match(stderr, /standard output was closed \(EPIPE\) before every result line was written.*\[io_error\]/);
  });

  test('a results file that is no file, or cannot be written, ends the run at once with io_error (never a hang)', async () => {
    const work = join(dir, 'unwritable');
    await mkdir(work, { recursive: true });
    await writePdf(join(work, 'a.pdf'), { pages: numberedPages('W', 1) });
    // A pipe: resuming read it to its end, which never comes (a `| cat` on /dev/stdout hung).
    execFileSync('mkfifo', [join(work, 'pipe.jsonl')]);
    const pipe = await run(['run', 'a.pdf', '--out', 'pipe.jsonl', '--progress', 'none', '--data-dir', 'd1'], work);
    assert.equal(pipe.code, 2);
    assert.match(pipe.stderr, /cannot write the results file .*pipe\.jsonl: it is a pipe; give a file path, or --out - .*\[io_error\]/);
    // A device is written to and never read back: /dev/full's writes fail (ENOSPC).
    const full = await run(['run', 'a.pdf', '--out', '/dev/full', '--progress', 'none', '--data-dir', 'd3'], work);
    assert.equal(full.code, 2);
    assert.match(full.stderr, /cannot write the results file \/dev\/full: .*ENOSPC.*\[io_error\]/);
    // A file whose writes fail (EIO; EACCES at open for a user who is not root): before, the run
    // printed the failure and waited forever for the line it could not write.
    // (--no-resume: /proc/version is no results file, and resuming it is refused before any write.)
    const failing = await run(['run', 'a.pdf', '--out', '/proc/version', '--no-resume', '--progress', 'none', '--data-dir', 'd2'], work);
    assert.equal(failing.code, 2);
    assert.match(failing.stderr, /cannot write the results file \/proc\/version: .*\[io_error\]/);
  });

  test('--out /dev/null runs the files and throws the lines away, resume or not', async () => {
    const work = join(dir, 'dev-null');
    await mkdir(work, { recursive: true });
    await writePdf(join(work, 'a.pdf'), { pages: numberedPages('N', 2) });
    await writeFile(join(work, 'rules.json'), JSON.stringify([{ name: 'n', pattern: 'N' }]));
    // Each run its own: no settings kept for /dev/null, so another --text or pipeline is no "other settings".
    for (const extra of [[], ['--no-resume'], ['--text', 'none'], ['--pipeline', 'rules', '--rules', 'rules.json']]) {
      const result = await run(['run', 'a.pdf', '--out', '/dev/null', '--progress', 'none', ...extra], work);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /done: 1 succeeded, 0 failed of 1 file[\s\S]*pages: 2 in[\s\S]*results: \/dev\/null/);
    }
    const retry = await run(['run', 'a.pdf', '--out', '/dev/null', '--retry-failed'], work);
    assert.equal(retry.code, 2);
    assert.match(retry.stderr, /cannot go with --out \/dev\/null/);
  });

  test('--ocr never reports a scan\'s pages as needs_ocr (a partial success); bad OCR flags are usage errors', async () => {
    const work = join(dir, 'ocr');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'scan.pdf'), await makeScannedPdf([['A scanned page']]));
    const never = await run(['run', 'scan.pdf', '--ocr', 'never', '--ocr-lang', 'eng+fra', '--ocr-dpi', '200', '--ocr-engine', 'tesseract', '--out', 'out.jsonl', '--progress', 'none'], work);
    assert.equal(never.code, 1, 'a partial success is not a success');
    assert.match(never.stdout, /done: 0 succeeded, 1 partially succeeded, 0 failed of 1 file/, 'counted as what it is, not as failed');
    const [line] = readLines(join(work, 'out.jsonl'));
    assert.equal(line?.status, 'partially_succeeded');
    assert.deepEqual(line?.warnings?.map((w) => [w.page, w.code]), [[1, 'needs_ocr']]);
    assert.deepEqual(line?.pages?.map((p) => [p.source, p.text]), [['text', '']]);
    const badLang = await run(['run', 'scan.pdf', '--ocr-lang', 'xyz', '--out', 'bad.jsonl', '--progress', 'none'], work);
    assert.equal(badLang.code, 2);
    assert.match(badLang.stderr, /install @tesseract\.js-data\/xyz.*\[validation_failed\]/);
    const badMode = await run(['run', 'scan.pdf', '--ocr', 'sometimes'], work);
    assert.equal(badMode.code, 2);
    assert.match(badMode.stderr, /Allowed choices are auto, always, never/);
    const badEngine = await run(['run', 'scan.pdf', '--ocr-engine', 'ocrad'], work);
    assert.equal(badEngine.code, 2);
    assert.match(badEngine.stderr, /Allowed choices are auto, tesseract, tesseractjs/);
  });

  test('--pdf-engine picks the engine, --pdf-password (or REAM_PDF_PASSWORD) opens an encrypted file; a bad engine is a usage error', async () => {
    const work = join(dir, 'engines');
    await mkdir(work, { recursive: true });
    await copyFile(join(fixturesDir, 'encrypted-user-password.pdf'), join(work, 'locked.pdf'));
    for (const engine of ['pdfium', 'pdfjs']) {
      const out = `${engine}.jsonl`;
      const opened = await run(['run', 'locked.pdf', '--pdf-engine', engine, '--pdf-password', 'user-secret', '--out', out, '--progress', 'none'], work);
      assert.equal(opened.code, 0, opened.stderr);
      assert.deepEqual(readLines(join(work, out))[0]?.pages?.map((p) => p.text), ['Secret page one', 'Secret page two']);
    }
    const fromEnv = await run(['run', 'locked.pdf', '--out', 'env.jsonl', '--progress', 'none'], work, { REAM_PDF_PASSWORD: 'user-secret' });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const wrong = await run(['run', 'locked.pdf', '--pdf-password', 'guess', '--out', 'wrong.jsonl', '--progress', 'none'], work);
    assert.equal(wrong.code, 1);
    assert.equal(readLines(join(work, 'wrong.jsonl'))[0]?.error?.code, 'encrypted_pdf');
    const badEngine = await run(['run', 'locked.pdf', '--pdf-engine', 'poppler'], work);
    assert.equal(badEngine.code, 2);
    assert.match(badEngine.stderr, /Allowed choices are pdfium, pdfjs/);
  });
});
