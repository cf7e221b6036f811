// A windowed list over @tanstack/virtual-core: only the rows in view (and a few either side) are
// in the DOM, so ten thousand jobs scroll as smoothly as ten, and a million table rows reach
// their end (scrolled on a scale past a browser's tallest layout: scroll-scale.ts).
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import { scrollScale, type ScrollScale } from './scroll-scale.ts';

export function useVirtualList(count: number, rowHeight: number) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  // Read by the virtualizer's callbacks, which outlive a render: always the current list's scale.
  const scale = useRef<ScrollScale>(scrollScale(0, 0));
  scale.current = scrollScale(count * rowHeight, scrollRef.current?.clientHeight ?? 0);
  const options = (rows: number): VirtualizerOptions<HTMLDivElement, Element> => ({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    // The virtualizer works in the full height; the element scrolls in the laid-out one.
    scrollToFn: (offset, scrollOptions, instance) => elementScroll(scale.current.toReal(offset), scrollOptions, instance),
    observeElementRect,
    observeElementOffset: (instance, notify) => observeElementOffset(instance, (offset, isScrolling) => notify(scale.current.toVirtual(offset), isScrolling)),
    onChange: () => rerender(undefined),
    overscan: 8,
  });
  const [virtualizer] = useState(() => new Virtualizer(options(count)));
  virtualizer.setOptions(options(count));
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => {
    virtualizer._willUpdate();
  });
  /** Where a row that starts at `start` (in the full height) is laid out: relative to where the view is, on a scale. */
  const layoutStart = (start: number): number => {
    const offset = virtualizer.scrollOffset ?? 0;
    return start - offset + scale.current.toReal(offset);
  };
  return { scrollRef, virtualizer, layoutHeight: scale.current.realTotal, layoutStart };
}
