// The server under test for bench/http.ts, in its own process so that its memory and CPU are its
// own: `node bench/http-server.ts <dataDir>` starts ream's HTTP service on 127.0.0.1 (a free
// port, auth off, with the bench's `held` pipeline) and prints `{"url","pid"}` as one JSON line
// on stdout. Each stdin line gets one JSON line back on stdout: "stats" → `{"rss","maxRss"}` in
// bytes, `{"cpuUs"}`, the CPU time used so far by the whole process (all threads) in µs, and
// `{"loopActiveMs","loopIdleMs"}`, the main thread's event-loop time so far;
// "open <gate>" opens that gate of the `held` pipeline → `{"opened"}`. On SIGTERM it closes,
// writes `{"maxRss"}` to stderr and exits.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createReam } from '../src/runtime/create-ream.ts';
import { startServer } from '../src/server/app.ts';
import { held, openGate } from './http-held-pipeline.ts';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: node bench/http-server.ts <dataDir>');

/** Peak resident set size so far, in bytes (resourceUsage() gives kilobytes). */
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

const ream = await createReam({ dataDir, threads: 2, pipelines: { held } });
const server = await startServer({ ream, host: '127.0.0.1', port: 0, heartbeatMs: 5_000 });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

const lines = createInterface({ input: process.stdin });
const answer = (value: object): boolean => process.stdout.write(`${JSON.stringify(value)}\n`);
lines.on('line', (line) => {
  const [command, argument] = line.trim().split(' ');
  if (command === 'stats') {
    const cpu = process.cpuUsage();
    const loop = performance.eventLoopUtilization();
    answer({ rss: process.memoryUsage().rss, maxRss: maxRss(), cpuUs: cpu.user + cpu.system, loopActiveMs: loop.active, loopIdleMs: loop.idle });
  } else if (command === 'open' && argument !== undefined) {
    openGate(argument);
    answer({ opened: argument });
  } else {
    answer({ error: `unknown command: ${line}` });
  }
});

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  lines.close();
  const stop = async (): Promise<void> => {
    await server.close();
    await ream.close();
  };
  // Never hang the bench: whatever happens, report and leave within 10 s.
  setTimeout(() => {
    process.stderr.write(`${JSON.stringify({ maxRss: maxRss(), closed: false })}\n`);
    process.exit(0);
  }, 10_000).unref();
  stop().then(
    () => {
      process.stderr.write(`${JSON.stringify({ maxRss: maxRss(), closed: true })}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${JSON.stringify({ maxRss: maxRss(), closed: false, error: String(error) })}\n`);
      process.exit(1);
    },
  );
});
