import type { FastifyInstance } from 'fastify';
import { PUBLIC } from '../auth/access.ts';

export const REPORT_FRAME_PATH = '/report-frame';

/**
 * What a report rendered in the console may do: its own inline styles and data: images, nothing
 * else (no script, no request to anywhere). The console puts each HTML report in an
 * `<iframe sandbox srcdoc>` inside this frame; a srcdoc document takes the CSP of the document
 * it is in, so the report gets this policy, not the console's (whose `style-src 'self'` would
 * refuse the report's `<style>`, and which must not be loosened for it).
 */
export const REPORT_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The frame itself: no script of its own; only the console (same origin) may frame it and fill it. */
const FRAME_POLICY = `${REPORT_CONTENT_SECURITY_POLICY}; frame-ancestors 'self'`;

const FRAME_HTML = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Report</title>'
  + '<style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%;display:block;background:#fff}</style></head><body></body></html>';

/**
 * `GET /report-frame`: an empty page the console fills with one sandboxed report. The report's
 * HTML is fetched with the SDK (an Authorization header, no key in a URL) and never runs script:
 * the inner iframe's sandbox has no `allow-scripts`, and this policy has no `script-src`.
 */
export function reportFrameRoute(app: FastifyInstance): void {
  app.get(REPORT_FRAME_PATH, { ...PUBLIC, schema: { hide: true } }, (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', FRAME_POLICY)
      .send(FRAME_HTML));
}
