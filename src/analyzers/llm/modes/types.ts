import type { PageText } from '../../../formats/types.ts';
import type { JsonObject, JsonValue } from '../../../json.ts';
import type { Fields } from '../../port.ts';
import type { ChatMessage } from '../client.ts';
import type { AnswerCheck } from '../schema.ts';

/** One model call a mode asks for: its messages, and the JSON shape its answer must have. */
export interface ModelRequest {
  name: string;
  messages: ChatMessage[];
  schema: JsonObject;
  check: AnswerCheck;
}

/** The pages a chunk sees, and which of them it owns (the others are overlap). */
export interface PartScope {
  pages: readonly PageText[];
  owns: (page: number) => boolean;
}

/** A chunk's data with the page range it owns (1-based, inclusive), for the reduce step. */
export interface PlacedData {
  firstPage: number;
  lastPage: number;
  data: JsonValue;
}

/**
 * A way of analysing documents: a map request per chunk (or part of one), a cleaning of its
 * answer into the chunk's data, a join of parts, and a document-level step that is either a
 * reduce request to the model or a plain combination.
 */
export interface LlmModeHandler {
  map(pages: readonly PageText[]): ModelRequest;
  /** A validated map answer → the chunk's data (fields on pages it does not own are dropped). */
  chunkData(answer: JsonValue, scope: PartScope): JsonValue;
  /** Joins the data of parts of one chunk split for length, or of chunks, in page order, without a call. */
  combine(parts: readonly PlacedData[]): JsonValue;
  /** The document step: a request whose answer `reduced` turns into the data, or `undefined` to use `combine`. */
  reduce(chunks: readonly PlacedData[]): ModelRequest | undefined;
  reduced(answer: JsonValue, chunks: readonly PlacedData[]): JsonValue;
  /** Final checks on a document's data (extract: the full schema), returning it with any problem noted. */
  finalize(data: JsonValue): JsonValue;
  fields(data: JsonValue, firstPage: number): Fields;
}
