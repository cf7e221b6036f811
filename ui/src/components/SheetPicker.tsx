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
  const shown = outline.sheets.find((candidate) => candidate.name === sheet) ?? outline.sheets.find((candidate) => candidate.columns.length > 0);
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
            <option value="">(the first: {named[0]?.name})</option>
            {named.map((candidate) => (
              <option key={candidate.name} value={candidate.name ?? ''}>
                {candidate.name}
              </option>
            ))}
          </select>
        </>
      )}
      <fieldset class="columns-pick">
        <legend>Columns fed to each row (none ticked: all)</legend>
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
