// Apart from thread-pool.ts so that the CLI can show the default without loading the pool.

/**
 * The default heap cap per thread, in MB: chosen for memory, at a price in CPU. V8 sizes its
 * old generation's growth by the cap, ×4 from 2048 MB up but only ×1.3–2 below it, and pdf.js
 * allocates so much short-lived garbage that 512 MB costs ~25% more CPU than 2048 (measured:
 * 22.5 vs 17.3 CPU-seconds over the corpus; 2047 is nearly as slow as 1024). 512 keeps a
 * two-thread process under 400 MB on the largest corpus files, where 2048 peaks near 500 MB,
 * and a hostile file hits its cap sooner. Raise it for speed when memory is plentiful; see
 * docs/benchmarks.md.
 */
export const DEFAULT_MAX_MEMORY_MB = 512;

/**
 * The smallest heap cap a thread starts with. Below ~4 MB V8 cannot even set up a thread's heap
 * and ends the whole process ("Fatal JavaScript out of memory"), not the thread; 16 leaves room
 * for ream's modules, so a cap too small for a file fails that file with `resource_limit`.
 */
export const MIN_MAX_MEMORY_MB = 16;
