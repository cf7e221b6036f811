// Starts and talks to bench/http-server.ts, the HTTP bench's server in a child process: one
// request line on its stdin, one JSON answer line on its stdout, in order.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface ServerStats {
  rss: number;
  maxRss: number;
  /** CPU time used by the whole server process so far (every thread), in µs. */
  cpuUs: number;
  /** Time the main thread's event loop spent running code / waiting for I/O so far, in ms. */
  loopActiveMs: number;
  loopIdleMs: number;
}

export interface ServerHandle {
  url: string;
  pid: number;
  stats(): Promise<ServerStats>;
  /** Opens a gate of the server's `held` pipeline: jobs waiting on it start producing chunks. */
  open(gate: string): Promise<void>;
  /** SIGTERM, then its peak RSS as it reports it on the way out. */
  stop(): Promise<number | undefined>;
}

const ANSWER_TIMEOUT_MS = 15_000;

export async function startChild(dataDir: string): Promise<ServerHandle> {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    process.execPath,
    [new URL('./http-server.ts', import.meta.url).pathname, dataDir],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const waiters: Array<(line: string) => void> = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => waiters.shift()?.(line));
  const nextLine = (what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not answer (${what}) within 15 s: ${stderr}`)), ANSWER_TIMEOUT_MS);
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const ask = async (command: string): Promise<unknown> => {
    const answer = nextLine(command);
    child.stdin.write(`${command}\n`);
    return JSON.parse(await answer) as unknown;
  };
  const first = JSON.parse(await nextLine('start')) as { url: string; pid: number };
  return {
    url: first.url,
    pid: first.pid,
    async stats() {
      return (await ask('stats')) as ServerStats;
    },
    async open(gate) {
      const answer = (await ask(`open ${gate}`)) as { opened?: string; error?: string };
      if (answer.opened !== gate) throw new Error(`server did not open gate ${gate}: ${answer.error ?? JSON.stringify(answer)}`);
    },
    async stop() {
      if (child.exitCode !== null) return undefined;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      const report = stderr
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"maxRss"'));
      return report === undefined ? undefined : (JSON.parse(report) as { maxRss: number }).maxRss;
    },
  };
}
