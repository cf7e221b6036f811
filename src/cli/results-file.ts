import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ReamError, type ErrorInfo } from '../errors.ts';
import type { DocumentOutput } from '../pipeline/types.ts';

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

export function toResultLine(path: string, output: DocumentOutput, textMode: TextMode): ResultLine {
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
  if (textMode === 'full') line.text = output.pages.map((p) => p.text).join('\f');
  if (textMode === 'pages') line.pages = output.pages;
  return line;
}

/** A line for a file that could not even be read from disk. */
export function unreadableLine(path: string, error: ErrorInfo): ResultLine {
  return {
    path, sha256: null, status: 'failed', mediaType: null, size: null, pageCount: null, metadata: null,
    fields: {}, failedPages: [], error: { code: error.code, message: error.message },
  };
}

function unwritable(path: string, error: unknown): ReamError {
  const reason = error instanceof Error ? error.message : String(error);
  return ReamError.nonRetryable('io_error', `cannot write the results file ${path}: ${reason}`, { cause: error });
}

/** `--out -`: the lines go to standard output (nothing to resume from there). */
export const STDOUT = '-';

/**
 * The `--out` JSONL file. Each line is written with one `write` call, so a crash leaves at most
 * one torn line at the end; on resume that torn tail is cut off and its document written again.
 * Lines already present name the files a resumed run skips. {@link STDOUT}: the lines go to
 * standard output, through its stream (a pipe may not take a synchronous write at once).
 */
export class ResultsFile {
  readonly path: string;
  readonly #fd: number;
  readonly #written: Set<string>;
  #stdoutError: Error | undefined;
  /** The status of each line an earlier run wrote (a resumed run's). */
  readonly #earlier: Map<string, string>;

  private constructor(path: string, fd: number, earlier: Map<string, string>) {
    this.path = path;
    this.#fd = fd;
    this.#written = new Set(earlier.keys());
    this.#earlier = earlier;
  }

  static open(path: string, resume: boolean): ResultsFile {
    try {
      return ResultsFile.#open(path, resume);
    } catch (error) {
      throw unwritable(path, error);
    }
  }

  static #open(path: string, resume: boolean): ResultsFile {
    if (path === STDOUT) {
      const file = new ResultsFile(path, -1, new Map());
      // A reader that went away (`| head`): the next line fails the run with io_error, not an
      // unhandled 'error' event.
      process.stdout.on('error', (error: Error) => {
        file.#stdoutError ??= error;
      });
      return file;
    }
    // `--out results/today.jsonl` in a folder that does not exist yet: made, as `--out-dir` is.
    mkdirSync(dirname(path), { recursive: true });
    // A device or a pipe (`/dev/full`, `/dev/stdout`) is no file to resume from: reading it to
    // its end would never end, or block. Refused by name rather than met halfway.
    const kind = existsSync(path) ? statSync(path) : undefined;
    if (kind && !kind.isFile()) throw new Error('it is not a regular file (a directory, device or pipe); give a file path');
    const written = new Map<string, string>();
    if (resume && existsSync(path)) {
      const content = readFileSync(path, 'utf8');
      const complete = content.lastIndexOf('\n') + 1;
      for (const raw of content.slice(0, complete).split('\n')) {
        if (!raw.trim()) continue;
        try {
          const parsed = JSON.parse(raw) as { path?: unknown; status?: unknown };
          if (typeof parsed.path === 'string') written.set(parsed.path, typeof parsed.status === 'string' ? parsed.status : 'failed');
        } catch {
          // a line we cannot read names no file: that file is processed again
        }
      }
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, Buffer.byteLength(content.slice(0, complete)));
      closeSync(fd);
    }
    const fd = openSync(path, resume ? 'a' : 'w');
    return new ResultsFile(path, fd, written);
  }

  has(path: string): boolean {
    return this.#written.has(path);
  }

  /** Whether an earlier run wrote this file's line with another status than `succeeded`. */
  endedUnsucceeded(path: string): boolean {
    const status = this.#earlier.get(path);
    return status !== undefined && status !== 'succeeded';
  }

  get size(): number {
    return this.#written.size;
  }

  /** Writes the line unless one for this path is already there. Returns whether it wrote. */
  write(line: ResultLine): boolean {
    if (this.#written.has(line.path)) return false;
    try {
      if (this.#stdoutError) throw this.#stdoutError;
      if (this.path === STDOUT) process.stdout.write(`${JSON.stringify(line)}\n`);
      else writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    } catch (error) {
      throw unwritable(this.path, error);
    }
    this.#written.add(line.path);
    return true;
  }

  close(): void {
    if (this.path !== STDOUT) closeSync(this.#fd);
  }
}
