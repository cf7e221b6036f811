import { LiquidError, type Liquid, type Template } from 'liquidjs';
import { ReamError } from '../../errors.ts';
import { createSandbox, DEFAULT_SANDBOX_LIMITS, type SandboxLimits, type SandboxOptions } from './sandbox.ts';
import type { TemplateData } from './template-data.ts';

/** A template parsed in its sandbox, with the limits its renders keep to. */
export interface ParsedTemplate {
  liquid: Liquid;
  templates: Template[];
  limits: SandboxLimits;
  /** Names it in messages: `template`, `name`. */
  what: string;
}

/** Line and column (1-based) of a Liquid error, when Liquid knows where it happened. */
function position(error: unknown): { line: number; column: number } | undefined {
  if (!(error instanceof LiquidError)) return undefined;
  const [line, column] = error.token.getPosition();
  return line === undefined || column === undefined ? undefined : { line, column };
}

/** The innermost error Liquid wrapped (a filter's, a limiter's). */
function original(error: unknown): unknown {
  let inner = error;
  for (let depth = 0; depth < 10 && inner instanceof LiquidError && inner.originalError; depth++) inner = inner.originalError;
  return inner;
}

/** Liquid's message without its own ", line:1, col:2" tail and source excerpt: the details carry them. */
function reason(error: unknown): string {
  const inner = original(error);
  const message = inner instanceof Error ? inner.message : String(inner);
  return (message.split('\n')[0] ?? message).replace(/, line:\d+, col:\d+$/, '');
}

function where(at: { line: number; column: number } | undefined): string {
  return at ? ` (line ${at.line}, column ${at.column})` : '';
}

/**
 * Parses `source` in a fresh sandbox. A template that does not parse, is too long, or uses a
 * refused tag throws `template_invalid` with `details.line`/`details.column`.
 */
export function parseTemplate(source: string, what: string, options: SandboxOptions): ParsedTemplate {
  if (typeof source !== 'string' || source.trim() === '') throw ReamError.nonRetryable('template_invalid', `the ${what} is empty`);
  const limits = options.limits ?? DEFAULT_SANDBOX_LIMITS;
  const { maxTemplateChars } = limits;
  if (source.length > maxTemplateChars) {
    throw ReamError.nonRetryable('template_invalid', `the ${what} is ${source.length} characters long; at most ${maxTemplateChars} are allowed`, { details: { length: source.length, maxChars: maxTemplateChars } });
  }
  const liquid = createSandbox(options);
  try {
    return { liquid, templates: liquid.parse(source), limits, what };
  } catch (error) {
    const at = position(error);
    throw ReamError.nonRetryable('template_invalid', `the ${what} does not parse${where(at)}: ${reason(error)}`, { ...(at ? { details: at } : {}) });
  }
}

/**
 * Renders a parsed template. A limit reached is `resource_limit` (memory budget, output size) or
 * `timeout` (render time), anything else `template_render_failed`; none is retried: the same
 * row fails the same way every time.
 */
export async function renderParsed(parsed: ParsedTemplate, data: TemplateData): Promise<string> {
  const { liquid, templates, limits, what } = parsed;
  let html: string;
  try {
    html = String(await liquid.render(templates, data));
  } catch (error) {
    const at = position(error);
    const details = at ?? {};
    const message = reason(error);
    // Liquid's limiters say so in these words (liquidjs `Limiter`: "<resource> limit exceeded").
    if (message === 'memory alloc limit exceeded') {
      throw ReamError.nonRetryable('resource_limit', `the ${what} allocated more than its budget of ${limits.memory} characters and array items${where(at)}`, { details: { ...details, limit: 'memory', memory: limits.memory } });
    }
    if (message === 'template render limit exceeded') {
      throw ReamError.nonRetryable('timeout', `the ${what} took longer than ${limits.renderTimeMs} ms to render${where(at)}`, { details: { ...details, limit: 'renderTime', renderTimeMs: limits.renderTimeMs } });
    }
    throw ReamError.nonRetryable('template_render_failed', `the ${what} could not be rendered${where(at)}: ${message}`, { ...(at ? { details: at } : {}) });
  }
  const bytes = Buffer.byteLength(html);
  if (bytes > limits.maxOutputBytes) {
    throw ReamError.nonRetryable('resource_limit', `the ${what} rendered ${bytes} bytes; at most ${limits.maxOutputBytes} are allowed`, { details: { limit: 'output', bytes, maxOutputBytes: limits.maxOutputBytes } });
  }
  return html;
}
