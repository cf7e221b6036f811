import type { ErrorInfo } from '../../errors.ts';
import type { SandboxOptions } from './sandbox.ts';
import type { TemplateData } from './template-data.ts';

/** One render, sent to a template thread (structured-cloned: plain data only). */
export interface RenderRequest {
  source: string;
  what: string;
  options: SandboxOptions;
  data: TemplateData;
}

/** A thread's answer: the HTML, or the coded error of the render; `ready` once, when it has loaded. */
export type RenderReply = { ok: true; html: string } | { ok: false; error: ErrorInfo } | { ready: true };
