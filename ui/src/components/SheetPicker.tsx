import type { TableOutlineView } from '@client';

/**
 * A spreadsheet's sheets and columns, as the server read them (`POST /v1/documents/:id/inspect`):
 * the user picks the sheet and the columns fed to each row. None ticked: every column.
 */
export function SheetPicker({ name, outline, sheet, columns, onChange }: {
  name: string;
  outline: TableOutlineView;
  sheet: string;
  columns: readonly string[];
  onChange: (sheet: string, columns: string[]) => void;
}) {
  const named = outline.sheets.filter((candidate) => candidate.name !== null && candidate.columns.length > 0);
  // With no sheet picked the server reads the workbook's first sheet, even one without a header.
  const first = outline.sheets[0];
  const shown = outline.sheets.find((candidate) => candidate.name === sheet) ?? first;
  const toggle = (column: string, on: boolean): void => {
    const next = on ? [...columns, column] : columns.filter((kept) => kept !== column);
    // In the header's order, whatever order they were ticked in.
    onChange(sheet, (shown?.columns ?? []).filter((candidate) => next.includes(candidate)));
  };
  return (
    <fieldset class="sheet-picker">
      <legend>Rows of {name}</legend>
      {named.length === 0 ? null : (
        <>
          <label for="sheet-pick">Sheet to read</label>
          <select id="sheet-pick" value={sheet} onChange={(event) => onChange(event.currentTarget.value, [])}>
            <option value="">(the first: {first?.name ?? ''})</option>
            {named.map((candidate) => (
              <option key={candidate.name} value={candidate.name ?? ''}>
                {candidate.name}
              </option>
            ))}
          </select>
        </>
      )}
      {sheet === '' && first !== undefined && first.columns.length === 0 ? (
        <p class="error" id="sheet-empty">The first sheet{first.name === null ? '' : `, ${first.name},`} has no header row: pick the sheet to read.</p>
      ) : null}
      <fieldset class="columns-pick">
        <legend>Columns kept in each row (none ticked: all; the others are left out of the results)</legend>
        {(shown?.columns ?? []).map((column) => (
          <label key={column} class="check">
            <input type="checkbox" checked={columns.includes(column)} onChange={(event) => toggle(column, event.currentTarget.checked)} />
            {column}
          </label>
        ))}
      </fieldset>
    </fieldset>
  );
}
