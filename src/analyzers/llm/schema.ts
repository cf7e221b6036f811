import { Ajv, type ValidateFunction } from 'ajv';
import { ReamError } from '../../errors.ts';
import type { JsonObject, JsonValue } from '../../json.ts';

/** Checks a value: `undefined` when it is valid, else what is wrong (for a repair prompt). */
export type AnswerCheck = (value: unknown) => string | undefined;

/**
 * Compiles a JSON Schema (draft-07 / 2019 keywords that ajv knows). A schema that does not
 * compile is the user's mistake: `validation_failed`, at submit. Unknown keywords and formats
 * are allowed (providers' schemas carry `description`, `format: date`, …) and not enforced.
 */
export function compileSchema(schema: JsonValue, what: string): AnswerCheck {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw ReamError.nonRetryable('validation_failed', `${what} must be a JSON Schema object`);
  }
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw ReamError.nonRetryable('validation_failed', `${what} is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (value) => (validate(value) ? undefined : ajv.errorsText(validate.errors, { dataVar: 'answer', separator: '; ' }));
}

/**
 * The schema a chunk's answer is held to: the document's, minus its top-level `required`. A
 * chunk holds a part of the document, and a field it does not mention must be left out, not
 * invented to satisfy the schema; the document's combined answer is checked against the full one.
 */
export function chunkSchema(schema: JsonObject): JsonObject {
  const { required: _required, ...rest } = schema;
  return rest;
}
