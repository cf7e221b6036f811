import { Liquid } from 'liquidjs';
import { registerFilters } from './filters.ts';

/** Where a template's reach ends: it arrives from a tenant over the API, so it is hostile. */
export interface SandboxLimits {
  /** Characters of template source (Liquid's `parseLimit`). Default 262,144 (256 KiB). */
  maxTemplateChars: number;
  /**
   * Wall time of one render in ms (Liquid's `renderLimit`, checked between tags; the template
   * thread is terminated a second after it, whatever the template is doing). Default 2,000.
   * Past it the row fails with `timeout`.
   */
  renderTimeMs: number;
  /**
   * What one render may allocate, in Liquid's units (`memoryLimit`): one per character of a
   * string a filter makes or an output prints, one per item of a range or of an array a filter
   * makes, summed over the render. Not bytes: an array item costs 8–50 bytes, so the default,
   * 8 Mi (8,388,608) units, is tens of MB at worst; a `(1..30000000)` range is refused before it
   * exists. Past it the row fails with `resource_limit`.
   */
  memory: number;
  /** UTF-8 bytes of one rendered report (or name). Default 8 MiB. Past it the row fails with `resource_limit` and nothing is stored. */
  maxOutputBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { maxTemplateChars: 256 * 1024, renderTimeMs: 2_000, memory: 8 * 1024 * 1024, maxOutputBytes: 8 * 1024 * 1024 };

export interface SandboxOptions {
  /** BCP 47 locale of `money`, `number` and `date` (default `en-US`). */
  locale?: string;
  /** Time zone of `date`: an IANA name or minutes west of UTC (default `UTC`, whatever the host's). */
  timezone?: string;
  limits?: SandboxLimits;
  /** false: outputs are not HTML-escaped (file names, which are sanitised instead). Default true. */
  escape?: boolean;
}

/** Tags that read other templates: a sandboxed template has nothing to read them from. */
const FILE_TAGS = ['include', 'render', 'layout'] as const;

/**
 * A Liquid engine a hostile template cannot leave: no file system (an empty in-memory template
 * map instead of `root`, and the tags that read files refused at parse), own properties only
 * (no `constructor`, no prototype walk), unknown filters refused, every output HTML-escaped
 * unless the template says `| raw`, and Liquid's parse, render-time and memory limits.
 */
export function createSandbox(options: SandboxOptions = {}): Liquid {
  const locale = options.locale ?? 'en-US';
  const limits = options.limits ?? DEFAULT_SANDBOX_LIMITS;
  const liquid = new Liquid({
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    ownPropertyOnly: true,
    strictFilters: true,
    ...(options.escape === false ? {} : { outputEscape: 'escape' as const }),
    locale,
    timezoneOffset: options.timezone ?? 'UTC',
    parseLimit: limits.maxTemplateChars,
    renderLimit: limits.renderTimeMs,
    memoryLimit: limits.memory,
    cache: false,
  });
  for (const tag of FILE_TAGS) {
    liquid.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not allowed: a report template is one self-contained file`);
      },
      render() {
        return '';
      },
    });
  }
  registerFilters(liquid, locale);
  return liquid;
}
