import type { Command } from 'commander';
import { extname } from 'node:path';
import { addLlmFlags, rowLlmJobOptions } from './llm-flags.ts';
import { addLocalEngineFlags, localEngineFlags } from './local-engine.ts';
import { positiveInt } from './parse-flags.ts';
import { addReportFlags, reportFlags } from './report-flags.ts';
import type { RowsOptions } from './rows-command.ts';
import { keepHeapSmall, ROWS_YOUNG_GENERATION_MB } from './process-heap.ts';
import { interruptSignal } from './signals.ts';

/** `<name>-out.csv` beside the input (`.xlsx` for a workbook): the same kind of table back. */
function defaultOut(input: string): string {
  const ext = extname(input).toLowerCase() === '.xlsx' ? '.xlsx' : '.csv';
  return `${input.slice(0, input.length - extname(input).length)}-out${ext}`;
}

/** `ream rows <file>`: a table in, the same table out with a column per field (see rows-command.ts). */
export function registerRowsCommand(program: Command): void {
  const rows = program
    .command('rows')
    .description('process every row of a CSV or XLSX table as an item; write the table back with a column per field')
    .argument('<file>', 'a .csv or .xlsx file; its first non-blank row is the header')
    .option('-o, --out <file>', 'the table to write: .csv, .xlsx or .jsonl (default: <file>-out.csv, or .xlsx for a workbook)')
    .option('--sheet <name>', 'the sheet of a workbook to read (default: the first)')
    .option('--rules <file>', 'JSON file of field rules, run on each row (its "column: value" lines)')
    .option('--rows-per-task <n>', 'rows per task: the unit of parallel work, checkpoints and retries (default 2000; 200 with --template or --llm-*)', positiveInt)
    .option('--max-rows <n>', 'refuse tables with more data rows (default 1000000)', positiveInt)
    .option('--index', 'also put every row into the data dir\'s search index (for `ream serve` over that data dir)')
    .option('--no-resume', 'start over instead of carrying on from the last run of this command')
    .option('--retry-failed', 'run again only the rows that failed in the last run of this command (the others keep their results)');
  addReportFlags(rows, 'row', 'cells by column name, row_number', 'row-<n>');
  addLocalEngineFlags(addLlmFlags(rows, 'row'))
    .action(async (input: string, flags: Record<string, unknown>) => {
      const report = reportFlags(flags);
      // With reports, a table is written only when --out asks for one.
      const out = (flags.out as string | undefined) ?? (report ? undefined : defaultOut(input));
      const llm = rowLlmJobOptions(flags);
      const options: RowsOptions = {
        ...(out === undefined ? {} : { out }),
        ...(report ? { report } : {}),
        dataDir: flags.dataDir as string,
        resume: flags.resume as boolean,
        retryFailed: flags.retryFailed === true,
        index: flags.index === true,
        progress: flags.progress as RowsOptions['progress'],
        ...(flags.sheet === undefined ? {} : { sheet: flags.sheet as string }),
        ...(flags.rules === undefined ? {} : { rules: flags.rules as string }),
        ...(llm === undefined ? {} : { llm }),
        ...(flags.rowsPerTask === undefined ? {} : { rowsPerTask: flags.rowsPerTask as number }),
        ...(flags.maxRows === undefined ? {} : { maxRows: flags.maxRows as number }),
        ...localEngineFlags(flags),
      };
      const signal = interruptSignal();
      // Loaded when `rows` runs, so that the other commands and `--help` start without the engine.
      const { rowsCommand, formatRowsSummary } = await import('./rows-command.ts');
      keepHeapSmall(ROWS_YOUNG_GENERATION_MB); // a table of a million rows in flat memory
      const summary = await rowsCommand(input, options, signal);
      process.stdout.write(`${formatRowsSummary(summary, input, out)}\n`);
      process.exitCode = summary.interrupted ? 130 : summary.error || summary.failedRows > 0 ? 1 : 0;
    });
}
