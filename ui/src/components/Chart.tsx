import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: number[];
  color: string;
}

/** A line chart over time (uPlot), redrawn as samples arrive; its title names it for screen readers. */
export function Chart({ title, times, series, unit }: { title: string; times: number[]; series: Series[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    if (box.current === null) return;
    const plot = new uPlot(
      {
        title,
        width: Math.max(280, box.current.clientWidth),
        height: 180,
        series: [{}, ...series.map((line) => ({ label: line.label, stroke: line.color, width: 2 }))],
        // At least the last minute, so that the first samples do not stretch over years; rates start at zero.
        scales: { x: { time: true, range: (_plot, min, max) => [Math.min(min, max - 60), max] }, y: { range: (_plot, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', label: unit }],
      },
      [times, ...series.map((line) => line.values)],
      box.current,
    );
    chart.current = plot;
    return () => {
      plot.destroy();
      chart.current = undefined;
    };
  }, [series.length]);

  useEffect(() => {
    chart.current?.setData([times, ...series.map((line) => line.values)]);
  }, [times, series]);

  return <div class="chart" ref={box} role="img" aria-label={`${title}, ${unit}: latest ${series.map((line) => `${line.label} ${(line.values.at(-1) ?? 0).toFixed(1)}`).join(', ')}`} />;
}
