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
  const risky = riskyPattern(schema);
  if (risky !== undefined) {
    throw ReamError.nonRetryable('validation_failed', `${what} has a pattern that nests unbounded quantifiers (${JSON.stringify(risky.slice(0, 100))}), which can take exponential time on an answer; write the repeated part as one character class (\`[a-z0-9-.]+\` rather than \`([a-z0-9-]+\\.)+\`)`);
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

/**
 * The first regular expression of a schema (`pattern`, a `patternProperties` name) shaped like
 * `(a+)+`. ajv runs them with JavaScript's backtracking engine on the model's answer, and a
 * running regex cannot be interrupted: an answer that almost matches would freeze the event loop
 * of every job in the process, as a rule's pattern would (rules/regex-safety.ts).
 */
function riskyPattern(value: JsonValue): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = riskyPattern(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'pattern' && typeof child === 'string' && hasNestedUnboundedQuantifier(child)) return child;
    if (key === 'patternProperties' && typeof child === 'object' && child !== null && !Array.isArray(child)) {
      const name = Object.keys(child).find((source) => hasNestedUnboundedQuantifier(source));
      if (name !== undefined) return name;
    }
    const found = riskyPattern(child);
    if (found !== undefined) return found;
  }
  return undefined;
}
