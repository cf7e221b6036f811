import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ReamError, toReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';

/** `--template` and the flags that go with it: a report per row (`ream rows`) or per document (`ream run`). */
export interface ReportFlags {
  /** The Liquid template file. */
  template: string;
  /** Where the timestamped report folder goes. */
  outDir: string;
  /** Liquid expression of each report's file name (without extension). */
  name?: string;
  /** Print each report to PDF too: true, or print options (pageSize, margin, header, footer). */
  pdf?: JsonObject | true;
  locale?: string;
  timezone?: string;
}

/** The report flags of a command; `unit` (row, document) and `variables` say what the template sees. */
export function addReportFlags(command: Command, unit: string, variables: string, defaultName: string): Command {
  return command
    .option('--template <file>', `render each ${unit} with this Liquid template to an HTML report (${variables})`)
    .option('--out-dir <dir>', 'with --template: the reports go into a timestamped folder under it (default: reports)')
    .option('--name <liquid>', `with --template: each report's file name, e.g. "{{ invoice_no }}" (default: ${defaultName})`)
    .option('--pdf', 'with --template: print each report to PDF too, in Chromium (REAM_CHROMIUM_PATH)')
    .option('--page-size <size>', 'with --pdf: A4, A3, A5, Letter, Legal or Tabloid (default A4)')
    .option('--margin <length>', 'with --pdf: margin on every side, e.g. 12mm, 0.5in (default 12mm)')
    .option('--landscape', 'with --pdf: landscape pages')
    .option('--header <file>', 'with --pdf: HTML printed at the top of each page (classes pageNumber, totalPages)')
    .option('--footer <file>', 'with --pdf: HTML printed at the bottom of each page')
    .option('--locale <tag>', 'with --template: locale of the money, number and date filters (default en-US)')
    .option('--timezone <zone>', 'with --template: time zone of the date filter (default UTC)');
}

/** The report flags, or `undefined` without --template (the flags that need it refuse to go alone). */
export function reportFlags(flags: Record<string, unknown>): ReportFlags | undefined {
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
  if (flags.header !== undefined) print.header = readTemplate(flags.header as string, 'header');
  if (flags.footer !== undefined) print.footer = readTemplate(flags.footer as string, 'footer');
  return {
    template,
    outDir: (flags.outDir as string | undefined) ?? 'reports',
    ...(flags.name === undefined ? {} : { name: flags.name as string }),
    ...(flags.pdf === true ? { pdf: Object.keys(print).length > 0 ? print : true } : {}),
    ...(flags.locale === undefined ? {} : { locale: flags.locale as string }),
    ...(flags.timezone === undefined ? {} : { timezone: flags.timezone as string }),
  };
}


/** The job options of the report flags: the template's text (read now), name, pdf, locale, timezone. */
export function reportJobOptions(report: ReportFlags): JsonObject {
  const job: JsonObject = { template: readTemplate(report.template) };
  if (report.name !== undefined) job.name = report.name;
  if (report.pdf !== undefined) job.pdf = report.pdf;
  if (report.locale !== undefined) job.locale = report.locale;
  if (report.timezone !== undefined) job.timezone = report.timezone;
  return job;
}

/** A file a flag names (`--template`, `--header`, `--footer`), read now: one that cannot be read is a usage error. */
function readTemplate(path: string, what = 'template'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw ReamError.nonRetryable('validation_failed', `cannot read ${what} ${path}: ${toReamError(error).message}`);
  }
}
