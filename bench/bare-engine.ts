// The harness of the bare-engine children of bench/pdf-extract.ts (pdf.js, PDFium): the main
// thread hands whole files from a shared list to `threads` worker threads running the same
// script, each reading a file with the engine alone, then prints one JSON line with the pages,
// characters, wall and CPU time and peak RSS of the process.
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

export interface Done {
  pages: number;
  chars: number;
}

/** Call at the end of a child script with its own URL and how it reads one file. */
export async function runBareEngine(scriptUrl: string, extractFile: (path: string) => Promise<Done>): Promise<void> {
  if (!isMainThread) {
    parentPort?.on('message', (path: string) => {
      extractFile(path).then((done) => parentPort?.postMessage(done), (error: unknown) => {
        throw error;
      });
    });
    return;
  }
  const [threadsArg = '1', ...files] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const queue = [...files];
  let pages = 0;
  let chars = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
      const worker = new Worker(fileURLToPath(scriptUrl));
      const next = (): void => {
        const file = queue.shift();
        if (file === undefined) {
          void worker.terminate().then(() => resolve());
          return;
        }
        worker.postMessage(file);
      };
      worker.on('message', (done: Done) => {
        pages += done.pages;
        chars += done.chars;
        next();
      });
      worker.on('error', reject);
      next();
    })),
  );
  const ms = performance.now() - started;
  const usage = process.resourceUsage();
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
  process.stdout.write(`${JSON.stringify({ pages, chars, failures: 0, ms, cpuMs, maxRssKb: usage.maxRSS })}\n`);
}
