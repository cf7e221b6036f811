/** `attachment; filename*=UTF-8''…`: any name, safely quoted (RFC 6266). */
export function attachment(name: string): string {
  return `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
}
