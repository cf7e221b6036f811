// Templates are rendered here, off the event loop. Liquid checks its time limit only between
// tags, and its filters (`sort`, `reverse`, `join`, …) run to the end synchronously: rendered on
// the main thread, one `(1..30000000) | sort` held the server for 15 s and took 2.9 GB. In a
// thread of its own a render costs at most that thread: past its time it is terminated, past its
// heap it dies, and the next render gets a fresh one.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromErrorInfo, ReamError } from '../../errors.ts';
import type { RenderReply, RenderRequest } from './template-protocol.ts';

/** Threads rendering at once in the process (REAM_TEMPLATE_THREADS); a render is usually well under 1 ms. */
const DEFAULT_THREADS = 2;
/**
 * Heap of a template thread, in MB (V8 old generation). A report within the limits (8 MiB of
 * output, 8 Mi units of Liquid's memory budget) needs a few tens; past it the thread dies and
 * the row fails with `resource_limit`.
 */
export const TEMPLATE_HEAP_MB = 128;
/** A thread idle this long is ended (its heap returned); the next render starts another in ~0.1 s. */
const IDLE_CLOSE_MS = 60_000;
/** How long past its render limit a render may run before its thread is terminated: Liquid's own check usually ends it first, with its line. */
const GRACE_MS = 1_000;

// Keep the current file's extension: `.ts` when run from source, `.js` from dist/ and the bundle.
const WORKER_FILE = new URL(`./template-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

interface Render {
  request: RenderRequest;
  /** Hard limit of the render once a thread has it, in ms. */
  limitMs: number;
  resolve(html: string): void;
  reject(error: ReamError): void;
}

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** One thread and the render it is doing; started on its first render, again after it was ended. */
class TemplateThread {
  #worker: Worker | undefined;
  /** The thread has loaded its module: renders are posted (and timed) from then on. */
  #ready = false;
  #render: Render | undefined;
  #timer: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  readonly #done: () => void;

  constructor(done: () => void) {
    this.#done = done;
  }

  get busy(): boolean {
    return this.#render !== undefined;
  }

  /** It has a thread now (one that need not be started first). */
  get started(): boolean {
    return this.#worker !== undefined;
  }

  run(render: Render): void {
    const worker = this.#worker ?? this.#start();
    this.#render = render;
    clearTimeout(this.#idle);
    worker.ref(); // an idle thread does not keep the process alive; a rendering one does
    if (this.#ready) this.#post(worker, render);
  }

  /** Hands `render` to the loaded thread: its time starts now (a busy machine may take seconds to start a thread). */
  #post(worker: Worker, render: Render): void {
    this.#timer = setTimeout(() => {
      this.#end(worker);
      this.#settle(ReamError.nonRetryable('timeout', `the ${render.request.what} took longer than ${render.limitMs} ms to render and was stopped`, { details: { limit: 'renderTime' } }));
    }, render.limitMs);
    worker.postMessage(render.request);
  }

  #start(): Worker {
    const worker = new Worker(WORKER_FILE, { resourceLimits: { maxOldGenerationSizeMb: TEMPLATE_HEAP_MB, maxYoungGenerationSizeMb: 16 } });
    this.#worker = worker;
    this.#ready = false;
    worker.unref(); // see #settle
    let outOfMemory = false;
    worker.on('message', (reply: RenderReply) => {
      if (this.#worker !== worker) return;
      if ('ready' in reply) {
        this.#ready = true;
        if (this.#render) this.#post(worker, this.#render);
      } else {
        this.#settle(reply.ok ? reply.html : fromErrorInfo(reply.error));
      }
    });
    worker.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') outOfMemory = true;
    });
    worker.on('exit', () => {
      // A thread ended on purpose (a timeout, idle) was let go of first, its render settled.
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const what = this.#render?.request.what ?? 'template';
      this.#settle(outOfMemory
        ? ReamError.nonRetryable('resource_limit', `the ${what} needed more than ${TEMPLATE_HEAP_MB} MB to render`, { details: { limit: 'heap', heapMb: TEMPLATE_HEAP_MB } })
        // A thread that died otherwise is the process's fault, not the row's: worth another try.
        : ReamError.retryable('internal', `the thread rendering the ${what} ended unexpectedly`));
    });
    return worker;
  }

  /** Lets go of `worker` and terminates it: whatever it says from now on is not heard. */
  #end(worker: Worker): void {
    if (this.#worker === worker) this.#worker = undefined;
    void worker.terminate();
  }

  /** Ends the current render (a no-op when there is none, as after a timeout) and takes the next. */
  #settle(outcome: string | ReamError): void {
    const render = this.#render;
    if (!render) return;
    this.#render = undefined;
    clearTimeout(this.#timer);
    const worker = this.#worker;
    if (worker) {
      worker.unref(); // idle: it does not keep the process alive
      this.#idle = setTimeout(() => {
        if (this.#worker === worker && !this.busy) this.#end(worker);
      }, IDLE_CLOSE_MS).unref();
    }
    if (typeof outcome === 'string') render.resolve(outcome);
    else render.reject(outcome);
    this.#done();
  }
}

/** The process's template threads and the renders waiting for one, first come first served. */
class TemplateThreads {
  readonly #threads: TemplateThread[];
  readonly #waiting: Render[] = [];

  constructor(threads: number) {
    this.#threads = Array.from({ length: threads }, () => new TemplateThread(() => this.#next()));
  }

  render(request: RenderRequest, renderTimeMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ request, limitMs: renderTimeMs + GRACE_MS, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    // Threads already started first: starting one takes ~0.1 s, seconds on a busy machine.
    const idle = this.#threads.filter((thread) => !thread.busy).sort((a, b) => Number(b.started) - Number(a.started));
    for (const thread of idle) {
      const render = this.#waiting.shift();
      if (!render) return;
      thread.run(render);
    }
  }
}

let shared: TemplateThreads | undefined;

/**
 * Renders a template on one of the process's template threads: `timeout` when it runs past
 * `renderTimeMs` (plus a grace for Liquid's own check), `resource_limit` when it outgrows the
 * thread's heap, else what the render itself says (see `renderParsed`).
 */
export function renderInThread(request: RenderRequest, renderTimeMs: number): Promise<string> {
  shared ??= new TemplateThreads(envInt('REAM_TEMPLATE_THREADS', DEFAULT_THREADS));
  return shared.render(request, renderTimeMs);
}
