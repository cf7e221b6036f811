import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from './services.ts';

export interface DedicatedRedis {
  url: string;
  port: number;
  /** Stops it (SHUTDOWN: the AOF is flushed first) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder: it reloads the AOF. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A redis-server of our own on a spare port, in the production setting ream documents:
 * `appendonly yes` (every write logged, fsync every second) and `maxmemory-policy noeviction`.
 */
export async function startDedicatedRedis(): Promise<DedicatedRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (!(await answers(url, port, 200, 1))) {
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGTERM'); // redis-server shuts down cleanly on SIGTERM, flushing the AOF
    await exited;
  };
  await start();
  return {
    url,
    port,
    stop,
    start,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
