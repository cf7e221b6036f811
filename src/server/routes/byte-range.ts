import type { ByteRange } from '../../blobs/port.ts';

/** What a `Range` header asks of a resource of `size` bytes. */
export type RangeRequest = { kind: 'whole' } | { kind: 'part'; range: Required<ByteRange> } | { kind: 'unsatisfiable' };

/**
 * One `bytes=` range (`0-99`, `100-`, `-50`) of `size` bytes. No header, another unit, or several
 * ranges: the whole resource (a server may ignore Range, RFC 9110 §14.2). A range that starts
 * past the end, or an empty resource asked for a part: `unsatisfiable` (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: 'whole' };
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return { kind: 'whole' };
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'part', range: { start, end } };
}
