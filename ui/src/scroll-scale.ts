// A list taller than a browser lays out: Chromium draws no element past 2^25 px (~33.5 million;
// Firefox stops near 17.9 million), so a 1,000,000-row table of 36 px rows could not be scrolled
// to its last rows. Past MAX_SCROLL_PX the list is laid out at that height and scrolled on a
// scale: the scroll position, in real pixels, maps to an offset in the full ("virtual") height
// that the virtualizer works in, so that the top of the scroll range is the first row and the
// bottom the last. A pixel of scrolling then moves more than a pixel of rows; below the cap the
// two are the same.
/** Layout height past which a list scrolls on a scale (under every browser's limit). */
export const MAX_SCROLL_PX = 15_000_000;

export interface ScrollScale {
  /** Height to lay the list out at. */
  realTotal: number;
  /** The virtual offset of a real scroll position. */
  toVirtual(real: number): number;
  /** The real scroll position of a virtual offset. */
  toReal(virtual: number): number;
}

/** The scale of a list `virtualTotal` px tall in a viewport `viewport` px tall. */
export function scrollScale(virtualTotal: number, viewport: number, max = MAX_SCROLL_PX): ScrollScale {
  if (virtualTotal <= max) return { realTotal: virtualTotal, toVirtual: (real) => real, toReal: (virtual) => virtual };
  // The scroll ranges (total less one viewport) map onto each other end to end.
  const view = Math.max(0, Math.min(viewport, max - 1));
  const factor = (virtualTotal - view) / (max - view);
  return {
    realTotal: max,
    toVirtual: (real) => Math.min(virtualTotal - view, Math.max(0, real * factor)),
    toReal: (virtual) => Math.min(max - view, Math.max(0, virtual / factor)),
  };
}
