import type { JsonObject, JsonValue } from '../../../json.ts';
import { ownValue, setOwn } from '../../../own-keys.ts';
import type { Fields } from '../../port.ts';
import { pagesBlock, systemPrompt } from '../prompts.ts';
import { chunkSchema, compileSchema, type AnswerCheck } from '../schema.ts';
import type { LlmSpec } from '../spec.ts';
import { isObject, match, ownedSource, SOURCE_SCHEMA, sourceOf } from './common.ts';
import type { LlmModeHandler, PlacedData } from './types.ts';

/**
 * `extract`: fields of a JSON Schema, each with the pages and the quote it came from. Its
 * property names are the tenant's: keys are read and set as own keys (own-keys.ts). A chunk
 * answers `{ values, sources }`; chunks are combined in page order (first value of a field
 * wins; arrays are joined without repeats) and the document's values are checked against the
 * full schema, its `required` included.
 */
export function extractMode(spec: LlmSpec & { schema: JsonObject }): LlmModeHandler {
  // The schema's own definitions go to the answer's root, where its `#/definitions/…` and
  // `#/$defs/…` references point once it is nested under `values` (as providers expect them);
  // its other local references (`#`, `#/properties/…`) are moved under `values` with it.
  const { definitions, $defs, ...values } = movedRefs(chunkSchema(spec.schema));
  const answerSchema: JsonObject = {
    type: 'object',
    properties: {
      values,
      sources: { type: 'object', additionalProperties: SOURCE_SCHEMA },
    },
    required: ['values', 'sources'],
    ...(definitions === undefined ? {} : { definitions }),
    ...($defs === undefined ? {} : { $defs }),
  };
  const checkAnswerSchema = compileSchema(answerSchema, 'option "schema"');
  const properties = spec.schema.properties as JsonObject;
  // A field the schema does not name is kept only when the schema asks for it: a name its
  // `patternProperties` match, or any name when its `additionalProperties` allows others.
  // Otherwise it is the model's invention, or the document's text telling it what to add, and
  // no field the user asked for: it is dropped before the answer is checked, so that
  // `additionalProperties: false` does not turn it into a failed answer.
  const additional = spec.schema.additionalProperties;
  const patterns = isObject(spec.schema.patternProperties) ? Object.keys(spec.schema.patternProperties).map((source) => new RegExp(source, 'u')) : [];
  const asked = (name: string): boolean => Object.hasOwn(properties, name) || (additional !== undefined && additional !== false) || patterns.some((pattern) => pattern.test(name));
  const checkAnswer: AnswerCheck = (value) => {
    const answer = value as JsonValue; // parsed JSON
    if (!isObject(answer) || !isObject(answer.values)) return checkAnswerSchema(answer);
    const values: JsonObject = {};
    for (const [name, value] of Object.entries(answer.values)) if (asked(name)) setOwn(values, name, value);
    return checkAnswerSchema({ ...answer, values });
  };
  const checkDocument = compileSchema(spec.schema, 'option "schema"');
  const task = [
    'Extract the fields described by this JSON Schema from the text:',
    JSON.stringify(spec.schema),
    'Answer {"values": {…fields…}, "sources": {"<field>": {"pages": [<page numbers>], "quote": "<the exact words the value was read from>"}}}.',
    'Leave out of "values" every field the text does not give.',
    spec.prompt ?? '',
  ].join('\n');
  return {
    map: (pages) => ({
      name: 'fields',
      messages: [{ role: 'system', content: systemPrompt(task, true) }, { role: 'user', content: pagesBlock(pages) }],
      schema: answerSchema,
      check: checkAnswer,
    }),
    chunkData(answer, scope) {
      const { values = {}, sources = {} } = isObject(answer) ? answer : {};
      const kept: JsonObject = {};
      const keptSources: JsonObject = {};
      for (const [name, value] of Object.entries(isObject(values) ? values : {})) {
        if (value === null || !asked(name)) continue;
        const source = ownedSource(isObject(sources) ? ownValue(sources, name) : undefined, scope);
        if (!source) continue; // found on overlap pages only: their owner reports it
        setOwn(kept, name, value);
        setOwn(keptSources, name, { pages: source.pages, quote: source.quote });
      }
      return { values: kept, sources: keptSources };
    },
    combine: combineValues,
    reduce: () => undefined, // fields combine without a model call
    reduced: (_answer, chunks) => combineValues(chunks),
    finalize(data) {
      if (!isObject(data)) return data;
      const problem = checkDocument(data.values ?? {});
      return problem === undefined ? data : { ...data, invalid: problem };
    },
    fields(data, firstPage) {
      const fields: Fields = {};
      for (const name of Object.keys(properties)) setOwn(fields, name, []);
      if (!isObject(data) || !isObject(data.values)) return fields;
      const sources = isObject(data.sources) ? data.sources : {};
      for (const [name, value] of Object.entries(data.values)) {
        setOwn(fields, name, [match(value, sourceOf(ownValue(sources, name)), firstPage)]);
      }
      return fields;
    },
  };
}

function combineValues(parts: readonly PlacedData[]): JsonValue {
  const values: JsonObject = {};
  const sources: JsonObject = {};
  for (const part of [...parts].sort((a, b) => a.firstPage - b.firstPage)) {
    if (!isObject(part.data) || !isObject(part.data.values)) continue;
    const partSources = isObject(part.data.sources) ? part.data.sources : {};
    for (const [name, value] of Object.entries(part.data.values)) {
      const had = ownValue(values, name);
      const partSource = ownValue(partSources, name);
      if (had === undefined) {
        setOwn(values, name, value);
        if (partSource !== undefined) setOwn(sources, name, partSource);
      } else if (Array.isArray(had) && Array.isArray(value)) {
        const seen = new Set(had.map((item) => JSON.stringify(item)));
        setOwn(values, name, [...had, ...value.filter((item) => !seen.has(JSON.stringify(item)))]);
        const a = sourceOf(ownValue(sources, name));
        const b = sourceOf(partSource);
        if (a && b) setOwn(sources, name, { pages: [...new Set([...a.pages, ...b.pages])].sort((x, y) => x - y), quote: a.quote });
      }
    }
  }
  return { values, sources };
}

/** Keywords whose values are data, not schemas: a `$ref` key in them is no reference. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'examples', 'default']);
/** Keywords whose values map names (a field may be called `const`) to schemas. */
const NAMED_SCHEMAS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']);

/**
 * A copy of `schema` whose local `$ref`s other than to its definitions point where the schema sits
 * in the answer's (`#` → `#/properties/values`). Copied without recursion: a schema nested past
 * the call stack is refused by the compiler with validation_failed, not here with an internal error.
 */
function movedRefs(schema: JsonObject): JsonObject {
  const root: JsonObject = {};
  const pending: { from: JsonObject | JsonValue[]; to: JsonObject | JsonValue[]; names: boolean }[] = [{ from: schema, to: root, names: false }];
  const copyOf = (value: JsonValue, names: boolean): JsonValue => {
    if (typeof value !== 'object' || value === null) return value;
    const to = Array.isArray(value) ? [] : {};
    pending.push({ from: value, to, names });
    return to;
  };
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { from, to, names } = next;
    if (Array.isArray(from) && Array.isArray(to)) {
      for (const item of from) to.push(copyOf(item, false));
      continue;
    }
    for (const [key, value] of Object.entries(from)) {
      const schemaKey = !names && !Array.isArray(from);
      const moved = schemaKey && key === '$ref' && typeof value === 'string' && local(value) ? `#/properties/values${value.slice(1)}` : undefined;
      const copy = moved ?? (schemaKey && DATA_KEYWORDS.has(key) ? structuredClone(value) : copyOf(value, schemaKey && NAMED_SCHEMAS.has(key)));
      setOwn(to as JsonObject, key, copy);
    }
  }
  return root;
}

function local(ref: string): boolean {
  return (ref === '#' || ref.startsWith('#/')) && !ref.startsWith('#/definitions/') && !ref.startsWith('#/$defs/');
}
