import { DEFAULT_SANDBOX_LIMITS, type SandboxOptions } from './sandbox.ts';
import { parseTemplate } from './parse.ts';
import type { TemplateData } from './template-data.ts';
import { renderInThread } from './template-threads.ts';

export type { TemplateData } from './template-data.ts';

/** A parsed template, rendered once per row. */
export interface ReportTemplate {
  render(data: TemplateData): Promise<string>;
}

/**
 * Parses `source` in a fresh sandbox. A template that does not parse, is too long, or uses a
 * refused tag throws `template_invalid` with `details.line`/`details.column`: said at submit,
 * before any row runs. `what` names it in the message (`template`, `name`). Each render runs
 * on a template thread (see template-threads.ts), never on the caller's event loop.
 */
export function compileTemplate(source: string, what = 'template', options: SandboxOptions = {}): ReportTemplate {
  parseTemplate(source, what, options);
  const renderTimeMs = (options.limits ?? DEFAULT_SANDBOX_LIMITS).renderTimeMs;
  return {
    render: (data) => renderInThread({ source, what, options, data }, renderTimeMs),
  };
}
