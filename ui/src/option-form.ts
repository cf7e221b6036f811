// The Submit page's option form, built from a pipeline's options schema (`GET /v1/pipelines`):
// one control per property, and the values read back into the options object the API takes.
// A relative path, not the @client alias: the console's logic tests import this file under the main tsconfig.
import type { JsonObject, JsonValue } from '../../src/client/index.ts';

export type FieldKind = 'integer' | 'number' | 'boolean' | 'choice' | 'text' | 'json';

export interface OptionField {
  key: string;
  kind: FieldKind;
  description: string;
  required: boolean;
  /** `choice`: the values offered. */
  choices: string[];
  minimum?: number;
  maximum?: number;
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
    return {
      key,
      kind: kindOf(property),
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
    const text = (values[field.key] ?? '').trim();
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
          throw new Error(`${field.key} must be JSON`);
        }
        break;
      default:
        options[field.key] = text;
    }
  }
  return options;
}
