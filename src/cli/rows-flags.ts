import type { Command } from 'commander';
import { ReamError } from '../errors.ts';
import { extname } from 'node:path';
import { addLocalEngineFlags, localEngineFlags } from './local-engine.ts';
import { positiveInt } from './parse-flags.ts';
import { readFileSync } from 'node:fs';
import type { JsonObject } from '../json.ts';
import type { ReportFlags, RowsOptions } from './rows-command.ts';
import { interruptSignal } from './signals.ts';

/** `<name>-out.csv` beside the input (`.xlsx` for a workbook): the same kind of table back. */
function defaultOut(input: string): string {
  const ext = extname(input).toLowerCase() === '.xlsx' ? '.xlsx' : '.csv';
  return `${input.slice(0, input.length - extname(input).length)}-out${ext}`;
}

/** The report flags, or `undefined` without --template (the flags that need it refuse to go alone). */
function reportFlags(flags: Record<string, unknown>): ReportFlags | undefined {
  const template = flags.template as string | undefined;
  const printFlags = ['pageSize', 'margin', 'landscape', 'header', 'footer'].filter((key) => flags[key] !== undefined);
  if (template === undefined) {
    const orphan = ['outDir', 'name', 'pdf', 'locale', 'timezone', ...printFlags].find((key) => flags[key] !== undefined);
    if (orphan) throw ReamError.nonRetryable('validation_failed', `--${orphan.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --template`);
    return undefined;
  }
  if (printFlags.length > 0 && flags.pdf !== true) throw ReamError.nonRetryable('validation_failed', '--page-size, --margin, --landscape, --header and --footer need --pdf');
  const print: JsonObject = {};
  if (flags.pageSize !== undefined) print.pageSize = flags.pageSize as string;
  if (flags.margin !== undefined) print.margin = flags.margin as string;
  if (flags.landscape === true) print.landscape = true;
  if (flags.header !== undefined) print.header = readFileSync(flags.header as string, 'utf8');
  if (flags.footer !== undefined) print.footer = readFileSync(flags.footer as string, 'utf8');
  return {
    template,
    outDir: (flags.outDir as string | undefined) ?? 'reports',
    ...(flags.name === undefined ? {} : { name: flags.name as string }),
    ...(flags.pdf === true ? { pdf: Object.keys(print).length > 0 ? print : true } : {}),
    ...(flags.locale === undefined ? {} : { locale: flags.locale as string }),
    ...(flags.timezone === undefined ? {} : { timezone: flags.timezone as string }),
  };
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
    .option('--rows-per-task <n>', 'rows per task: the unit of parallel work, checkpoints and retries (default 200)', positiveInt)
    .option('--max-rows <n>', 'refuse tables with more data rows (default 1000000)', positiveInt)
    .option('--no-resume', 'start over instead of carrying on from the last run of this command')
    .option('--template <file>', 'render each row with this Liquid template to an HTML report (cells by column name, row_number)')
    .option('--out-dir <dir>', 'with --template: the reports go into a timestamped folder under it (default: reports)')
    .option('--name <liquid>', 'with --template: each report\'s file name, e.g. "{{ invoice_no }}" (default: row-<n>)')
    .option('--pdf', 'with --template: print each report to PDF too, in Chromium (REAM_CHROMIUM_PATH)')
    .option('--page-size <size>', 'with --pdf: A4, A3, A5, Letter, Legal or Tabloid (default A4)')
    .option('--margin <length>', 'with --pdf: margin on every side, e.g. 12mm, 0.5in (default 12mm)')
    .option('--landscape', 'with --pdf: landscape pages')
    .option('--header <file>', 'with --pdf: HTML printed at the top of each page (classes pageNumber, totalPages)')
    .option('--footer <file>', 'with --pdf: HTML printed at the bottom of each page')
    .option('--locale <tag>', 'with --template: locale of the money, number and date filters (default en-US)')
    .option('--timezone <zone>', 'with --template: time zone of the date filter (default UTC)');
  addLocalEngineFlags(rows)
    .action(async (input: string, flags: Record<string, unknown>) => {
      const report = reportFlags(flags);
      // With reports, a table is written only when --out asks for one.
      const out = (flags.out as string | undefined) ?? (report ? undefined : defaultOut(input));
      const options: RowsOptions = {
        ...(out === undefined ? {} : { out }),
        ...(report ? { report } : {}),
        dataDir: flags.dataDir as string,
        resume: flags.resume as boolean,
        progress: flags.progress as RowsOptions['progress'],
        ...(flags.sheet === undefined ? {} : { sheet: flags.sheet as string }),
        ...(flags.rules === undefined ? {} : { rules: flags.rules as string }),
        ...(flags.rowsPerTask === undefined ? {} : { rowsPerTask: flags.rowsPerTask as number }),
        ...(flags.maxRows === undefined ? {} : { maxRows: flags.maxRows as number }),
        ...localEngineFlags(flags),
      };
      const signal = interruptSignal();
      // Loaded when `rows` runs, so that the other commands and `--help` start without the engine.
      const { rowsCommand, formatRowsSummary } = await import('./rows-command.ts');
      const summary = await rowsCommand(input, options, signal);
      process.stdout.write(`${formatRowsSummary(summary, input, out)}\n`);
      process.exitCode = summary.interrupted ? 130 : summary.error || summary.failedRows > 0 ? 1 : 0;
    });
}
