// Number formatting and percentiles shared by the HTTP bench's sections.
const MB = 1024 * 1024;

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const mib = (bytes: number): string => fmt(bytes / MB, 0);

/** Nearest-rank percentile of values sorted ascending (sort once: samples run to the 100,000s). */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
