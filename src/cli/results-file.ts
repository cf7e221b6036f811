import { closeSync, existsSync, ftruncateSync, lstatSync, openSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { constants } from 'node:buffer';
import { dirname, resolve } from 'node:path';
import { ReamError, type ErrorInfo } from '../errors.ts';
import { fileKind, isCharacterDevice } from '../file-kind.ts';
import { makeFolders } from '../make-folders.ts';
import { copyBytes, fileLines, LINE_START } from './results-lines.ts';
import { writeFailure } from './write-failure.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import type { PageText } from '../formats/types.ts';

const { MAX_STRING_LENGTH } = constants;

export type TextMode = 'pages' | 'full' | 'none';

/** One line of `--out`: a document's result as a user reads it. */
export interface ResultLine {
  path: string;
  /** The document's id in the job (absent for a file that could not be read): what a child's `parentId` names. */
  documentId?: string;
  /** An attachment's line: the `documentId` of the message it came out of (its `path` is `<message>#<n>/<name>`). */
  parentId?: string;
  sha256: string | null;
  status: DocumentOutput['status'];
  mediaType: string | null;
  size: number | null;
  pageCount: number | null;
  metadata: DocumentOutput['metadata'];
  text?: string;
  pages?: DocumentOutput['pages'];
  fields: DocumentOutput['fields'];
  failedPages: DocumentOutput['failedPages'];
  /** Pages read with a caveat (`needs_ocr`), when there are. */
  warnings?: DocumentOutput['warnings'];
  error: Pick<ErrorInfo, 'code' | 'message'> | null;
  /** Analyzers' document data (the llm pipeline's validated answer) and model usage, when there are. */
  analysis?: DocumentOutput['analysis'];
  usage?: DocumentOutput['usage'];
}

/** `piecesFrom`: see {@link PIECES_FROM_CHARS}. */
export function toResultLine(path: string, output: DocumentOutput, textMode: TextMode, piecesFrom = PIECES_FROM_CHARS): ResultLine {
  const line: ResultLine = {
    path,
    documentId: output.documentId,
    ...(output.parentId === undefined ? {} : { parentId: output.parentId }),
    sha256: output.sha256,
    status: output.status,
    mediaType: output.mediaType,
    size: output.size,
    pageCount: output.pageCount,
    metadata: output.metadata,
    fields: output.fields,
    failedPages: output.failedPages,
    ...(output.warnings ? { warnings: output.warnings } : {}),
    error: output.error ? { code: output.error.code, message: output.error.message } : null,
    ...(output.analysis ? { analysis: output.analysis } : {}),
    ...(output.usage ? { usage: output.usage } : {}),
  };
  // Pages are joined with a form feed, as pdftotext does, so page breaks survive in `full`.
  if (textMode === 'full') {
    if (textChars(output.pages) < piecesFrom) line.text = output.pages.map((p) => p.text).join('\f');
    else unjoined.set(line, output.pages); // too long to join: written in pieces (see lineJson)
  }
  if (textMode === 'pages') line.pages = output.pages;
  return line;
}

/**
 * Characters of text from which a line is written in pieces rather than made one string: a
 * JavaScript string holds at most `MAX_STRING_LENGTH` (536,870,888) characters, some 5,400 pages
 * of dense text, well within the page limit (10,000) and the size limit (1 GiB), and JSON may
 * escape a character to six. Below it a line is one `JSON.stringify`, as fast as it gets.
 */
export const PIECES_FROM_CHARS = Math.floor(MAX_STRING_LENGTH / 8);

/** The pages of `full` lines whose text is too long to be one string, written joined by {@link lineJson}. */
const unjoined = new WeakMap<ResultLine, readonly PageText[]>();

function textChars(pages: readonly PageText[]): number {
  let chars = 0;
  for (const page of pages) chars += page.text.length + 1;
  return chars;
}

/**
 * The JSON of `line` and its newline, as one string, or in pieces of about a megabyte when its
 * text passes `piecesFrom` characters: then its text (`text` or `pages`) comes last, each page
 * serialised on its own, so no string is longer than a page's.
 */
export function lineJson(line: ResultLine, piecesFrom = PIECES_FROM_CHARS): string[] {
  const joined = unjoined.get(line);
  const pages = joined ?? line.pages;
  if (!joined && (pages === undefined || textChars(pages) < piecesFrom)) return [`${JSON.stringify(line)}\n`];
  const { text: _text, pages: _pages, ...rest } = line;
  const head = JSON.stringify(rest);
  const pieces = new Pieces(`${head.slice(0, -1)},${joined ? '"text":"' : '"pages":['}`);
  pages?.forEach((page, index) => {
    if (joined) pieces.add(`${index > 0 ? '\\f' : ''}${JSON.stringify(page.text).slice(1, -1)}`);
    else pieces.add(`${index > 0 ? ',' : ''}${JSON.stringify(page)}`);
  });
  pieces.add(joined ? '"}\n' : ']}\n');
  return pieces.done();
}

/** Strings gathered into pieces of about {@link PIECE_CHARS}: few writes, none too long. */
class Pieces {
  readonly #done: string[] = [];
  #parts: string[] = [];
  #chars = 0;

  constructor(first: string) {
    this.add(first);
  }

  add(part: string): void {
    this.#parts.push(part);
    this.#chars += part.length;
    if (this.#chars >= PIECE_CHARS) this.#flush();
  }

  done(): string[] {
    this.#flush();
    return this.#done;
  }

  #flush(): void {
    if (this.#parts.length > 0) this.#done.push(this.#parts.join(''));
    this.#parts = [];
    this.#chars = 0;
  }
}

const PIECE_CHARS = 1024 * 1024;

/** A line for a file that could not even be read from disk. */
export function unreadableLine(path: string, error: ErrorInfo): ResultLine {
  return {
    path, sha256: null, status: 'failed', mediaType: null, size: null, pageCount: null, metadata: null,
    fields: {}, failedPages: [], error: { code: error.code, message: error.message },
  };
}

function unwritable(path: string, error: unknown): ReamError {
  return writeFailure(`the results file ${path}`, error);
}

/**
 * The lines an earlier run wrote to the file open as `fd` (file → status), and the bytes of its
 * complete lines. Only a file ream can tell is its own is resumed — every complete line a result
 * line, the rest at most the start of one (a line torn by a crash) — since resuming cuts that
 * rest off and appends: `--out notes.txt` naming someone's notes by mistake must not lose their
 * last line. Anything else is refused (`validation_failed`, a usage error), unchanged. Read a
 * chunk at a time (see results-lines.ts).
 */
function earlierLines(path: string, fd: number): { written: Map<string, string>; complete: number } {
  const refuse = (what: string): ReamError => ReamError.nonRetryable('validation_failed',
    `${path} exists and is not a ream results file (${what}): it is left as it is; give another --out, or --no-resume to replace it`);
  const written = new Map<string, string>();
  let complete = 0;
  let index = 0;
  for (const { end, complete: whole, line, begins } of fileLines(fd)) {
    index++;
    if (!whole) {
      if (!begins.startsWith(LINE_START) && !LINE_START.startsWith(begins)) throw refuse('its last line is no result line');
      break;
    }
    if (!line) throw refuse(`line ${index} is no result line`);
    written.set(line.path, line.status);
    complete = end + 1;
  }
  return { written, complete };
}

/** The closest of `folder` and the folders above it that exists (whatever it is). */
function nearestExisting(folder: string): string {
  let at = folder;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/** Where the symbolic link `path` points, when it is one to nothing (yet). */
function danglingTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? resolve(dirname(path), readlinkSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

/** `--out -`: the lines go to standard output (nothing to resume from there). */
export const STDOUT = '-';

/**
 * The `--out` JSONL file. Each line is written with one `write` call, so a crash leaves at most
 * one torn line at the end; on resume that torn tail is cut off and its document written again
 * (a file that is not ream's is refused instead, see {@link earlierLines}).
 * Lines already present name the files a resumed run skips. {@link STDOUT}: the lines go to
 * standard output, through its stream (a pipe may not take a synchronous write at once).
 */
export class ResultsFile {
  readonly path: string;
  #fd: number;
  /** The folder the lines' paths are relative to: they are known by the absolute paths they name. */
  readonly #base: string;
  /** Absolute paths of the files that have a line. */
  readonly #written: Set<string>;
  #stdoutError: Error | undefined;
  /** The status of each line an earlier run wrote (a resumed run's), by absolute path. */
  readonly #earlier: Map<string, string>;

  private constructor(path: string, fd: number, earlier: Map<string, string>, base: string) {
    this.path = path;
    this.#fd = fd;
    this.#base = base;
    this.#earlier = new Map([...earlier].map(([line, status]) => [resolve(base, line), status]));
    this.#written = new Set(this.#earlier.keys());
  }

  /**
   * Whether `path` can be the results file, checked before anything else is opened or made (the
   * data dir, its database): `--out` naming a folder, a pipe, a path under a file or a place
   * that cannot be written is refused with io_error at once, the data dir untouched. Nothing is
   * changed: an existing file is opened for writing without being truncated, a new one is
   * made and removed again (its folders are left, as the run would make them).
   */
  static check(path: string, what = `the results file ${path}`, links = 0): void {
    if (path === STDOUT || isCharacterDevice(path)) return;
    try {
      // A link to a file not made yet (results kept elsewhere): the run writes through it, so its
      // target is what is checked (an exclusive create of the link itself would meet the link).
      const target = existsSync(path) ? undefined : danglingTarget(path);
      if (target !== undefined && links < 40) return ResultsFile.check(target, what, links + 1);
      const kind = existsSync(path) ? statSync(path) : undefined;
      if (kind?.isFIFO()) throw new Error('it is a pipe; give a file path, or --out - to write to standard output');
      if (kind && !kind.isFile()) throw new Error(`it is not a regular file (it is ${fileKind(kind)}); give a file path`);
      if (kind) {
        closeSync(openSync(path, 'r+'));
        return;
      }
      const folder = dirname(path);
      const above = nearestExisting(folder);
      if (!statSync(above).isDirectory()) throw new Error(`${above} is not a folder`);
      makeFolders(folder);
      closeSync(openSync(path, 'wx'));
      unlinkSync(path);
    } catch (error) {
      throw writeFailure(what, error);
    }
  }

  /** `base`: the folder lines name files from (relative paths are resolved against it); default the working directory. */
  static open(path: string, resume: boolean, base = process.cwd()): ResultsFile {
    try {
      return ResultsFile.#open(path, resume, base);
    } catch (error) {
      if (error instanceof ReamError) throw error;
      throw unwritable(path, error);
    }
  }

  static #open(path: string, resume: boolean, base: string): ResultsFile {
    if (path === STDOUT) {
      const file = new ResultsFile(path, -1, new Map(), base);
      // A reader that went away (`| head`): the next line fails the run with io_error, not an
      // unhandled 'error' event.
      process.stdout.on('error', (error: Error) => {
        file.#stdoutError ??= error;
      });
      return file;
    }
    // `--out results/today.jsonl` in a folder that does not exist yet: made, as `--out-dir` is.
    makeFolders(dirname(path));
    // `--out /dev/null` (results not wanted) or a terminal: nothing to resume from.
    if (isCharacterDevice(path)) return new ResultsFile(path, openSync(path, 'w'), new Map(), base);
    const kind = existsSync(path) ? statSync(path) : undefined;
    // A pipe (`/dev/stdout` in `| cat`) would block both reading it and opening it without a
    // reader: refused by name rather than met halfway; `--out -` writes to standard output.
    if (kind?.isFIFO()) throw new Error('it is a pipe; give a file path, or --out - to write to standard output');
    if (kind && !kind.isFile()) throw new Error(`it is not a regular file (it is ${fileKind(kind)}); give a file path`);
    let written = new Map<string, string>();
    if (resume && existsSync(path)) {
      const fd = openSync(path, 'r+');
      try {
        const earlier = earlierLines(path, fd);
        written = earlier.written;
        ftruncateSync(fd, earlier.complete);
      } finally {
        closeSync(fd);
      }
    }
    const fd = openSync(path, resume ? 'a' : 'w');
    return new ResultsFile(path, fd, written, base);
  }

  /**
   * Takes the lines `pick` names (by the absolute path they name and their status) out of a
   * resumed file (--retry-failed), so that their files are run and written again. The lines kept
   * are written beside it and renamed over it: a crash leaves one whole file, old or new.
   */
  redo(pick: (absolute: string, status: string) => boolean): number {
    const picked = [...this.#earlier].filter(([absolute, status]) => this.#written.has(absolute) && pick(absolute, status)).map(([absolute]) => absolute);
    if (picked.length === 0 || this.path === STDOUT) return 0;
    for (const absolute of picked) {
      this.#earlier.delete(absolute);
      this.#written.delete(absolute);
    }
    const from = openSync(this.path, 'r');
    const to = openSync(`${this.path}.redo`, 'w');
    try {
      for (const { start, end, complete, line } of fileLines(from)) {
        if (complete && line !== undefined && this.#written.has(resolve(this.#base, line.path))) copyBytes(from, to, start, end + 1);
      }
    } finally {
      closeSync(from);
      closeSync(to);
    }
    renameSync(`${this.path}.redo`, this.path);
    closeSync(this.#fd);
    this.#fd = openSync(this.path, 'a');
    return picked.length;
  }

  /** Whether the file has a line; `path` absolute, or as lines name it (relative to the base). */
  has(path: string): boolean {
    return this.#written.has(resolve(this.#base, path));
  }

  /** Whether an earlier run wrote this file's line with another status than `succeeded`. */
  endedUnsucceeded(path: string): boolean {
    const status = this.#earlier.get(resolve(this.#base, path));
    return status !== undefined && status !== 'succeeded';
  }

  /** The lines an earlier run wrote and this one keeps: absolute path and status. */
  earlier(): Array<[string, string]> {
    return [...this.#earlier];
  }

  get size(): number {
    return this.#written.size;
  }

  /** Writes the line unless one for this path is already there. Returns whether it wrote. */
  write(line: ResultLine): boolean {
    const key = resolve(this.#base, line.path);
    if (this.#written.has(key)) return false;
    try {
      if (this.#stdoutError) throw this.#stdoutError;
      // A line in pieces is written piece after piece, nothing between them: a crash still tears only the last line.
      for (const piece of lineJson(line)) {
        if (this.path === STDOUT) process.stdout.write(piece);
        else writeSync(this.#fd, piece);
      }
    } catch (error) {
      throw unwritable(this.path, error);
    }
    this.#written.add(key);
    return true;
  }

  close(): void {
    if (this.path !== STDOUT) closeSync(this.#fd);
  }
}
