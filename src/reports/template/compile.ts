import { LiquidError, type Liquid, type Template } from 'liquidjs';
import { ReamError } from '../../errors.ts';
import type { CellValue } from '../../formats/types.ts';
import { createSandbox, DEFAULT_SANDBOX_LIMITS, type SandboxOptions } from './sandbox.ts';

/** What a template sees: a row's cells by column name (or a document's fields). */
export interface TemplateData {
  [name: string]: CellValue | CellValue[] | TemplateData;
}

/** A parsed template, rendered once per row. */
export interface ReportTemplate {
  render(data: TemplateData): Promise<string>;
}

/** Line and column (1-based) of a Liquid error, when Liquid knows where it happened. */
function position(error: unknown): { line: number; column: number } | undefined {
  if (!(error instanceof LiquidError)) return undefined;
  const [line, column] = error.token.getPosition();
  return line === undefined || column === undefined ? undefined : { line, column };
}

/** Liquid's message without its own ", line:1, col:2" tail and source excerpt: the details carry them. */
function reason(error: unknown): string {
  const message = error instanceof LiquidError ? (error.originalError?.message ?? error.message) : error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).replace(/, line:\d+, col:\d+$/, '');
}

/**
 * Parses `source` in a fresh sandbox. A template that does not parse, is too long, or uses a
 * refused tag throws `template_invalid` with `details.line`/`details.column`: said at submit,
 * before any row runs. `what` names it in the message (`template`, `name`).
 */
export function compileTemplate(source: string, what = 'template', options: SandboxOptions = {}): ReportTemplate {
  if (typeof source !== 'string' || source.trim() === '') throw ReamError.nonRetryable('template_invalid', `the ${what} is empty`);
  const { maxTemplateChars } = options.limits ?? DEFAULT_SANDBOX_LIMITS;
  if (source.length > maxTemplateChars) {
    throw ReamError.nonRetryable('template_invalid', `the ${what} is ${source.length} characters long; at most ${maxTemplateChars} are allowed`, { details: { length: source.length, maxChars: maxTemplateChars } });
  }
  const liquid: Liquid = createSandbox(options);
  let parsed: Template[];
  try {
    parsed = liquid.parse(source);
  } catch (error) {
    const at = position(error);
    const where = at ? ` (line ${at.line}, column ${at.column})` : '';
    throw ReamError.nonRetryable('template_invalid', `the ${what} does not parse${where}: ${reason(error)}`, { ...(at ? { details: at } : {}) });
  }
  return {
    async render(data) {
      try {
        return String(await liquid.render(parsed, data));
      } catch (error) {
        const at = position(error);
        const where = at ? ` (line ${at.line}, column ${at.column})` : '';
        throw ReamError.nonRetryable('template_render_failed', `the ${what} could not be rendered${where}: ${reason(error)}`, { ...(at ? { details: at } : {}) });
      }
    },
  };
}
