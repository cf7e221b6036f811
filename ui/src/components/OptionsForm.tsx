import type { OptionField, FormValues } from '../option-form.ts';

/** One labelled control per option of the pipeline's schema; empty means the pipeline's default. */
export function OptionsForm({ pipeline, fields, values, onChange }: { pipeline: string; fields: readonly OptionField[]; values: FormValues; onChange: (key: string, value: string) => void }) {
  return (
    <fieldset class="options-form">
      <legend>Options of {pipeline} (empty: the default)</legend>
      {fields.map((field) => {
        const id = `option-${field.key}`;
        const hint = field.description === '' ? undefined : `${id}-hint`;
        const value = values[field.key] ?? '';
        const common = { id, 'aria-describedby': hint, required: field.required };
        let control;
        if (field.kind === 'boolean' || field.kind === 'choice') {
          const choices = field.kind === 'boolean' ? ['true', 'false'] : field.choices;
          control = (
            <select {...common} value={value} onChange={(event) => onChange(field.key, event.currentTarget.value)}>
              <option value="">(default)</option>
              {choices.map((choice) => (
                <option key={choice} value={choice}>
                  {choice}
                </option>
              ))}
            </select>
          );
        } else if (field.kind === 'json') {
          control = <textarea {...common} rows={3} value={value} onInput={(event) => onChange(field.key, event.currentTarget.value)} />;
        } else if (field.kind === 'longtext') {
          control = <textarea {...common} rows={6} value={value} onInput={(event) => onChange(field.key, event.currentTarget.value)} />;
        } else if (field.kind === 'text') {
          control = <input {...common} type="text" value={value} onInput={(event) => onChange(field.key, event.currentTarget.value)} />;
        } else {
          control = (
            <input
              {...common}
              type="number"
              step={field.kind === 'integer' ? 1 : 'any'}
              min={field.minimum}
              max={field.maximum}
              value={value}
              onInput={(event) => onChange(field.key, event.currentTarget.value)}
            />
          );
        }
        return (
          <div class="option" key={field.key}>
            <label for={id}>
              {field.key}
              {field.kind === 'json' ? (field.textAllowed ? ' (JSON or text)' : ' (JSON)') : ''}
              {field.required ? ' (required)' : ''}
            </label>
            {control}
            {hint === undefined ? null : (
              <small id={hint} class="muted">
                {field.description}
              </small>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}
