// A windowed list over @tanstack/virtual-core: only the rows in view (and a few either side) are
// in the DOM, so ten thousand jobs scroll as smoothly as ten.
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';

export function useVirtualList(count: number, rowHeight: number) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const options = (rows: number): VirtualizerOptions<HTMLDivElement, Element> => ({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    onChange: () => rerender(undefined),
    overscan: 8,
  });
  const [virtualizer] = useState(() => new Virtualizer(options(count)));
  virtualizer.setOptions(options(count));
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => {
    virtualizer._willUpdate();
  });
  return { scrollRef, virtualizer };
}
