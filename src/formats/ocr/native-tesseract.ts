// The `tesseract` program (Debian's tesseract-ocr, or `REAM_TESSERACT`) as an OCR engine: one
// process per page, run from the pool thread that rendered it. Native code costs ~0.6× the
// WebAssembly engine's CPU per page. It reads the same models as tesseract.js (the npm
// packages' best_int data, un-gzipped once into a cache folder), so both read pages alike.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ReamError } from '../../errors.ts';
import type { Recognition } from './tesseract.ts';
import { languageDataFile } from './ocr-options.ts';
import { parseTsv } from './tsv-text.ts';

/** A page's TSV is a few hundred kB; more means something is wrong, not a bigger page. */
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
/** A page that takes longer is stopped (the pool's own timeout usually comes first). */
const DEFAULT_PAGE_TIMEOUT_MS = 10 * 60_000;

/** The program to run: `REAM_TESSERACT`, else `tesseract` from PATH. */
export function tesseractCommand(): string {
  return process.env.REAM_TESSERACT || 'tesseract';
}

let probe: Promise<boolean> | undefined;
let probedCommand: string | undefined;

/** Whether the program answers `--version`; asked once per thread (again if the command changes). */
export function nativeTesseractAvailable(): Promise<boolean> {
  const command = tesseractCommand();
  if (!probe || probedCommand !== command) {
    probedCommand = command;
    probe = promisify(execFile)(command, ['--version'], { timeout: 10_000 }).then(() => true, () => false);
  }
  return probe;
}

// Linux's setpriv makes the child die with the thread that started it: the pool ends a
// cancelled or overdue task by terminating its thread, which runs no more JavaScript to kill it.
const SETPRIV = '/usr/bin/setpriv';
const setprivAvailable = process.platform === 'linux' && existsSync(SETPRIV);

/** Where un-gzipped models are kept: `REAM_TESSDATA_CACHE`, else the user's cache folder. */
function cacheRoot(): string {
  if (process.env.REAM_TESSDATA_CACHE) return process.env.REAM_TESSDATA_CACHE;
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'ream', 'tessdata');
}

/**
 * A folder holding `<code>.traineddata` for each of `languages` (tesseract reads them all from
 * one folder), un-gzipped from the npm packages once. The folder is named after the packages'
 * files (path, size, time), so an upgraded package gets a fresh copy; each file is written under
 * a temporary name and renamed, so no thread or process reads a half-written model.
 */
export async function tessdataDir(languages: readonly string[]): Promise<string> {
  const sources = [...languages].sort().map((code) => ({ code, file: languageDataFile(code) }));
  const hash = createHash('sha256');
  for (const { file } of sources) {
    const info = await stat(file);
    hash.update(`${file}\0${info.size}\0${info.mtimeMs}\0`);
  }
  const dir = join(cacheRoot(), hash.digest('hex').slice(0, 16));
  for (const { code, file } of sources) {
    const target = join(dir, `${code}.traineddata`);
    if (existsSync(target)) continue;
    await mkdir(dir, { recursive: true });
    const temporary = `${target}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, await promisify(gunzip)(await readFile(file)));
    await rename(temporary, target);
  }
  return dir;
}

/** Recognises one page image (PNG or any format tesseract reads) with the native program. */
export async function recognizeNative(
  image: Buffer, languages: readonly string[], dpi: number, options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Recognition> {
  if (!(await nativeTesseractAvailable())) {
    throw ReamError.nonRetryable('ocr_failed',
      `cannot run tesseract (${tesseractCommand()}): not installed or not answering --version; install tesseract-ocr, set REAM_TESSERACT, or use ocrEngine "tesseractjs"`);
  }
  const tessdata = await tessdataDir(languages);
  const args = ['stdin', 'stdout', '--tessdata-dir', tessdata, '-l', languages.join('+'), '--dpi', String(dpi), '--psm', '3', '--oem', '1',
    // TSV alone, as variables: the `tsv` config file lives in the system's tessdata, not ours.
    '-c', 'tessedit_create_tsv=1', '-c', 'tessedit_create_txt=0'];
  const command = tesseractCommand();
  const [file, argv] = setprivAvailable ? [SETPRIV, ['--pdeathsig', 'KILL', command, ...args]] : [command, args];
  const { stdout, stderr, code } = await run(file, argv, image, options);
  if (code !== 0) {
    const detail = stderr.trim().split('\n').slice(-3).join(' ');
    throw ReamError.nonRetryable('ocr_failed', `tesseract could not read the page (exit ${code}): ${detail || 'no message'}`);
  }
  return parseTsv(stdout);
}

async function run(
  file: string, argv: string[], input: Buffer, options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const { signal } = options;
  if (signal?.aborted) throw new ReamError('cancelled', 'the OCR of the page was cancelled');
  // ream runs pages in parallel itself: one OpenMP thread per process.
  const child = spawn(file, argv, { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let outBytes = 0;
    const err: Buffer[] = [];
    let failure: ReamError | undefined;
    const stop = (error: ReamError): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new ReamError('timeout', 'tesseract took too long on the page')), options.timeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS);
    const onAbort = (): void => stop(new ReamError('cancelled', 'the OCR of the page was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_OUTPUT_BYTES) stop(ReamError.nonRetryable('ocr_failed', `tesseract wrote more than ${MAX_OUTPUT_BYTES} bytes for one page`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 64) err.push(chunk);
    });
    child.stdin.on('error', () => undefined); // a child that exits early closes its end: its exit says why
    child.on('error', (error) => stop(ReamError.nonRetryable('ocr_failed', `cannot run tesseract (${tesseractCommand()}): ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code });
    });
    child.stdin.end(input);
  });
}
