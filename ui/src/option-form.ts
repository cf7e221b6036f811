// The Submit page's option form, built from a pipeline's options schema (`GET /v1/pipelines`):
// one control per property, and the values read back into the options object the API takes.
// A relative path, not the @client alias: the console's logic tests import this file under the main tsconfig.
import type { JsonObject, JsonValue } from '../../src/client/index.ts';

export type FieldKind = 'integer' | 'number' | 'boolean' | 'choice' | 'text' | 'longtext' | 'json';

/** Strings that are documents of their own (a template, a prompt): several lines, kept as typed. */
const LONG_TEXT_KEYS = new Set(['template', 'prompt', 'reducePrompt', 'question']);

export interface OptionField {
  key: string;
  kind: FieldKind;
  description: string;
  required: boolean;
  /** `choice`: the values offered. */
  choices: string[];
  minimum?: number;
  maximum?: number;
  /** `json`: the schema takes a plain string too (`ocrLanguages`: a list, or "eng+fra"); text that is not JSON is that string. */
  textAllowed?: boolean;
}

/** What the user entered per field: text (numbers and JSON as typed), or '' / 'true' / 'false'. */
export type FormValues = Record<string, string>;

function typesOf(schema: JsonObject): string[] {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

function kindOf(schema: JsonObject): FieldKind {
  const types = typesOf(schema).filter((t) => t !== 'null');
  if (Array.isArray(schema.enum) && types.length === 1 && types[0] === 'string') return 'choice';
  if (types.length !== 1) return 'json';
  switch (types[0]) {
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'text';
    default:
      return 'json';
  }
}

const isObject = (value: JsonValue | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The form's fields, in the schema's order; none when it names no properties (any object). */
export function fieldsOf(schema: JsonObject): OptionField[] {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  return Object.entries(properties).map(([key, value]) => {
    const property = isObject(value) ? value : {};
    const kind = kindOf(property);
    const alternatives = Array.isArray(property.anyOf) ? property.anyOf.filter(isObject) : [];
    const takesText = typesOf(property).includes('string') || alternatives.some((alternative) => typesOf(alternative).includes('string'));
    return {
      key,
      kind: kind === 'text' && LONG_TEXT_KEYS.has(key) ? 'longtext' : kind,
      ...(kind === 'json' && takesText ? { textAllowed: true } : {}),
      description: typeof property.description === 'string' ? property.description : '',
      required: required.includes(key),
      choices: Array.isArray(property.enum) ? property.enum.filter((c): c is string => typeof c === 'string') : [],
      ...(typeof property.minimum === 'number' ? { minimum: property.minimum } : {}),
      ...(typeof property.maximum === 'number' ? { maximum: property.maximum } : {}),
    };
  });
}

/**
 * The options object of what was entered: empty fields are left out (the pipeline's default),
 * numbers and JSON parsed. Throws an Error naming the field whose text does not parse; the
 * server checks the rest (ranges, required options) against the same schema.
 */
export function optionsOf(fields: readonly OptionField[], values: FormValues): JsonObject {
  const options: JsonObject = {};
  for (const field of fields) {
    const typed = values[field.key] ?? '';
    const text = typed.trim();
    if (text === '') continue;
    switch (field.kind) {
      case 'integer':
      case 'number': {
        const n = Number(text);
        if (!Number.isFinite(n) || (field.kind === 'integer' && !Number.isInteger(n))) throw new Error(`${field.key} must be ${field.kind === 'integer' ? 'a whole number' : 'a number'}`);
        options[field.key] = n;
        break;
      }
      case 'boolean':
        options[field.key] = text === 'true';
        break;
      case 'json':
        try {
          options[field.key] = JSON.parse(text) as JsonValue;
        } catch {
          if (!field.textAllowed) throw new Error(`${field.key} must be JSON`);
          options[field.key] = text;
        }
        break;
      case 'longtext':
        options[field.key] = typed; // its line breaks and indentation are part of it
        break;
      default:
        options[field.key] = text;
    }
  }
  return options;
}

/**
 * The form's values for an options object (what {@link optionsOf} reads back to it), and the
 * keys it has that the form has no field for. Options typed as JSON before the server said which
 * fields a pipeline has are carried into its form with this.
 */
export function valuesOf(fields: readonly OptionField[], options: JsonObject): { values: FormValues; unknown: string[] } {
  const byKey = new Map(fields.map((field) => [field.key, field]));
  const values: FormValues = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const field = byKey.get(key);
    if (field === undefined) unknown.push(key);
    else if (typeof value === 'string' && field.kind !== 'json') values[key] = value;
    else if (typeof value === 'string' && field.textAllowed === true) values[key] = value;
    else if (field.kind === 'json' || typeof value === 'object') values[key] = JSON.stringify(value);
    else values[key] = String(value);
  }
  return { values, unknown };
}
