import contentDisposition from 'content-disposition';

/**
 * `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): any name, safely quoted, with an
 * ASCII fallback for clients that read only `filename` (`curl -OJ`, some download managers).
 */
export function attachment(name: string): string {
  return contentDisposition(name, { type: 'attachment' });
}
