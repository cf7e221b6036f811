// Test-only access to what a Ream hides: the engine and its adapters. Nothing in src/ outside
// src/runtime/ may import this module (eslint.config.js); tests use it to read records the
// facade does not answer (chunk results, blobs) and to simulate faults (a failing enqueue).
import type { Engine, EnginePorts } from './engine.ts';
import type { Ream } from './ream.ts';

const engines = new WeakMap<Ream, Engine>();

/** Called by the handle's maker: ties the handle to its engine. */
export function rememberEngine(ream: Ream, engine: Engine): void {
  engines.set(ream, engine);
}

/** The engine behind a handle made by `createReam` (throws for anything else). */
export function engineOf(ream: Ream): Engine {
  const engine = engines.get(ream);
  if (!engine) throw new Error('not a ream made by createReam');
  return engine;
}

/** The adapters behind a handle made by `createReam`: its store, queue, blobs, search index. */
export function adaptersOf(ream: Ream): EnginePorts {
  return engineOf(ream).ports;
}
