import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import { chromiumPath } from './pdf/chromium-path.ts';
import { pdfOptions } from './pdf/pdf-options.ts';
import type { ReportSpec } from './reports-analyzer.ts';
import { compileTemplate } from './template/compile.ts';

/** The job options a report reads (beside the pipeline's own). */
export const REPORT_OPTIONS = ['template', 'name', 'pdf', 'locale', 'timezone'] as const;

function optionalString(options: JsonObject, key: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw ReamError.nonRetryable('validation_failed', `option "${key}" must be a non-empty string`);
  return value;
}

/**
 * The report a job's options ask for, or `undefined` when they have no `template`. Parses the
 * template and the name at once (`template_invalid` with line and column refuses the job at
 * submit) and, with `pdf`, finds Chromium (`renderer_unavailable`, before any row runs).
 */
export function reportSpec(options: JsonObject): ReportSpec | undefined {
  const template = optionalString(options, 'template');
  const name = optionalString(options, 'name');
  const locale = optionalString(options, 'locale');
  const timezone = optionalString(options, 'timezone');
  const { pdf } = options;
  if (template === undefined) {
    if (name !== undefined || (pdf !== undefined && pdf !== false)) throw ReamError.nonRetryable('validation_failed', 'options "name" and "pdf" need a "template"');
    return undefined;
  }
  if (locale !== undefined) {
    try {
      new Intl.NumberFormat(locale);
    } catch {
      throw ReamError.nonRetryable('validation_failed', `option "locale" is not a locale such as en-US: ${locale}`);
    }
  }
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw ReamError.nonRetryable('validation_failed', `option "timezone" is not an IANA time zone such as UTC or Europe/Paris: ${timezone}`);
    }
  }
  const sandbox = { ...(locale === undefined ? {} : { locale }), ...(timezone === undefined ? {} : { timezone }) };
  const config: ReportSpec['config'] = { template, ...(name === undefined ? {} : { name }), pdf: pdf !== undefined && pdf !== false, ...sandbox };
  if (pdf !== undefined && pdf !== false && pdf !== true && (typeof pdf !== 'object' || pdf === null || Array.isArray(pdf))) {
    throw ReamError.nonRetryable('validation_failed', 'option "pdf" must be true, false or an object of print options');
  }
  return {
    template: compileTemplate(template, 'template', sandbox),
    ...(name === undefined ? {} : { name: compileTemplate(name, 'name', { ...sandbox, escape: false }) }),
    ...(pdf === undefined || pdf === false ? {} : { pdf: { options: pdfOptions(pdf), executablePath: chromiumPath() } }),
    config,
  };
}
