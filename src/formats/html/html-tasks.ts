// The HTML tasks a pool thread runs (see src/runtime/pool-worker.ts): `html.inspect` (title and
// meta fields) and `html.extract` (the readable text). A hostile page (deep nesting, a huge
// table) costs CPU and memory here, under the thread's time limit and memory cap.
import { readFile } from 'node:fs/promises';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import type { TaskHandler } from '../types.ts';
import type { WholeExtractInput, WholeExtractResult, WholeInspectInput, WholeInspectResult } from '../whole-document-format.ts';
import { bomEncoding, decodeHtml, htmlMetadata, htmlText } from './html-text.ts';
import { fileIoError } from '../file-checks.ts';

async function readHtml(path: string): Promise<string> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw fileIoError('read', error);
  });
  // A UTF-16 page (its byte order mark says so) has a NUL in every ASCII character; any other page with one is binary.
  const utf16 = bomEncoding(bytes)?.startsWith('utf-16') === true;
  const text = decodeHtml(bytes);
  if (utf16 ? text.includes('\0') : bytes.includes(0)) throw ReamError.nonRetryable('invalid_text', 'the page contains NUL bytes: it is binary, not HTML');
  return text;
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path } = fromJson<WholeInspectInput>(input);
  const result: WholeInspectResult = { metadata: htmlMetadata(await readHtml(path)) };
  return asJson(result);
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const { path, links } = fromJson<WholeExtractInput>(input);
  const result: WholeExtractResult = { text: htmlText(await readHtml(path), links) };
  return asJson(result);
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'html.inspect': inspect,
  'html.extract': extract,
};
