import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from './env.ts';

export interface ServeProcess {
  child: ChildProcess;
  /** e.g. `http://127.0.0.1:40123`, from the server's "listening" log line. */
  url: string;
  /** Everything the process wrote so far (for failure messages). */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const LISTENING = /ream listening on (https?:\/\/[^\s;"]+)/;

/** Runs `ream serve --port 0 …args` from source and resolves once it listens (its log names the URL). */
export async function startServeProcess(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/ream.js'), 'serve', '--port', '0', ...args], {
    env: { ...process.env, REAM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ream serve did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = LISTENING.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ream serve exited (${code}) before listening:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await stop(1_000);
    throw error;
  });
  return { child, url, output: () => output, stop };
}
