import { Ajv, type ValidateFunction } from 'ajv';
import { ReamError } from '../../errors.ts';
import type { JsonObject, JsonValue } from '../../json.ts';
import { hasNestedUnboundedQuantifier } from '../rules/regex-safety.ts';

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
  // ajv hands every regular expression it will run (`pattern`, `patternProperties` names, also
  // through `$ref`) to its RegExp engine: only those are checked, not a "pattern" key in an
  // `examples`, `const`, `default` or `enum` value, which is data.
  let risky: string | undefined;
  const regExp = Object.assign(
    (source: string, flags: string): RegExp => {
      if (hasNestedUnboundedQuantifier(source, flags.includes('v'))) {
        risky ??= source;
        throw new Error(`risky pattern ${source}`);
      }
      return new RegExp(source, flags);
    },
    { code: 'new RegExp' },
  );
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp } });
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    if (risky !== undefined) {
      throw ReamError.nonRetryable('validation_failed', `${what} has a pattern that nests unbounded quantifiers (${JSON.stringify(risky.slice(0, 100))}): a repeated group holding "+", "*" or "{n,}", even with a bounded repeat like "{1,50}", can take exponential time on an answer; write the repeated part as one character class (\`[a-z0-9-.]+\` rather than \`([a-z0-9-]+\\.)+\`)`);
    }
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
