// A seeded generator (mulberry32): the same draws on every run, for latencies a bench must repeat.
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The LLM bench's model latency in ms: 2 s ± 0.5 s, uniform (bench/llm-model-server.ts, bench/llm.ts). */
export function modelLatencyMs(random: () => number): number {
  return 1500 + random() * 1000;
}
