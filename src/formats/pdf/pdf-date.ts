// PDF dates (ISO 32000-1 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`, where everything after the year
// is optional, O is `+`, `-` or `Z`, and real files add or drop the apostrophes and the `D:`.
const PDF_DATE = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\s*([Zz+-])\s*(?:(\d{2})'?(?:(\d{2})'?)?)?)?/;

/**
 * Parses a PDF date string into ISO 8601 UTC (`2024-05-06T07:08:09Z`), or `undefined` when it
 * is not a date (producers write junk here more often than one would hope).
 */
export function parsePdfDate(value: string): string | undefined {
  const m = PDF_DATE.exec(value.trim());
  if (!m) return undefined;
  const [, y = '', mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const offsetHours = Number(oh);
  const offsetMinutes = Number(om);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offset = sign === '+' ? 1 : sign === '-' ? -1 : 0;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March; a date that does not round-trip is invalid.
  const check = new Date(local);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  const utc = local - offset * (offsetHours * 60 + offsetMinutes) * 60_000;
  return new Date(utc).toISOString().replace('.000Z', 'Z');
}
