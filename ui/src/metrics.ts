// The console's charts sample the server's own counters (`GET /metrics`) while the Operate page
// is open; this reads the Prometheus text format into sums by metric and label.

/** Each sample line's value summed by metric name, and by `name{label="value"}` for each label of interest. */
export function parseMetrics(text: string, byLabels: readonly string[] = ['outcome', 'status']): Map<string, number> {
  const sums = new Map<string, number>();
  const add = (key: string, value: number): void => {
    sums.set(key, (sums.get(key) ?? 0) + value);
  };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const [, name = '', labels = '', raw = ''] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    add(name, value);
    for (const byLabel of byLabels) {
      const label = new RegExp(`[{,]${byLabel}="([^"]*)"`).exec(labels);
      if (label) add(`${name}{${byLabel}="${label[1] ?? ''}"}`, value);
    }
  }
  return sums;
}

export interface Sample {
  /** Seconds since the epoch. */
  at: number;
  values: Map<string, number>;
}

/** Per-second rate of a counter between consecutive samples (the first sample has none; a reset counts from 0). */
export function rates(samples: readonly Sample[], key: string): number[] {
  return samples.slice(1).map((sample, i) => {
    const previous = samples[i] as Sample;
    const seconds = sample.at - previous.at;
    const now = sample.values.get(key) ?? 0;
    const before = previous.values.get(key) ?? 0;
    const delta = now >= before ? now - before : now;
    return seconds > 0 ? delta / seconds : 0;
  });
}
