// The server under test for bench/http.ts, in its own process so that its memory and CPU are its
// own: `node bench/http-server.ts <dataDir>` starts ream's HTTP service on 127.0.0.1 (a free
// port, auth off) and prints `{"url","pid"}` as one JSON line on stdout. Each line "rss" on stdin
// is answered on stdout with `{"rss","maxRss"}` in bytes; on SIGTERM it closes, writes
// `{"maxRss"}` to stderr and exits.
import { createInterface } from 'node:readline';
import { createReam } from '../src/runtime/create-ream.ts';
import { startServer } from '../src/server/app.ts';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: node bench/http-server.ts <dataDir>');

/** Peak resident set size so far, in bytes (resourceUsage() gives kilobytes). */
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

const ream = await createReam({ dataDir, threads: 2 });
const server = await startServer({ ream, host: '127.0.0.1', port: 0, heartbeatMs: 5_000 });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'rss') process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, maxRss: maxRss() })}\n`);
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
