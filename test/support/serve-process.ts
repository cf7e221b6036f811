import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from './env.ts';

export interface ServeProcess extends ReamProcess {
  /** e.g. `http://127.0.0.1:40123`, from the server's "listening" log line. */
  url: string;
}

export const LISTENING = /ream listening on (https?:\/\/[^\s;"]+)/;

/**
 * How long a `ream` process started from source may take to say it is ready: seconds when the
 * machine is idle, but loading ream's modules is CPU work, and a busy machine (the test files run
 * side by side) stretches it many times over. Only a broken start waits this long.
 */
export const STARTUP_TIMEOUT_MS = 120_000;

/** A `ream` process started from source, once it said it is ready. */
export interface ReamProcess {
  child: ChildProcess;
  /** Everything the process wrote so far (for failure messages). */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** How to start a process other than the `ream` binary (e.g. `npm start`). */
export interface SpawnOptions {
  command: string;
  args: readonly string[];
  /** Short name for error messages. */
  name: string;
  cwd?: string;
  /** Its own process group, stopped as a whole (for launchers such as npm that start a shell and node). */
  group?: boolean;
}

/**
 * Runs `ream <args>` from source and resolves with the first match of `ready` in its output
 * (stdout or stderr); if it exits first or takes longer than `timeoutMs`, it is stopped and the
 * promise rejects with what it wrote.
 */
export async function startReamProcess(
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs: number,
): Promise<{ process: ReamProcess; match: RegExpExecArray }> {
  return startProcess({ command: process.execPath, args: [join(repoRoot, 'bin/ream.js'), ...args], name: `ream ${args[0] ?? ''}` }, env, ready, timeoutMs);
}

/** {@link startReamProcess} for any command; ream's sources are used (REAM_FROM_SOURCE) either way. */
export async function startProcess(
  spawnOptions: SpawnOptions,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs: number,
): Promise<{ process: ReamProcess; match: RegExpExecArray }> {
  const { command, args, name, cwd, group = false } = spawnOptions;
  const child = spawn(command, args, {
    env: { ...process.env, REAM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
    ...(cwd === undefined ? {} : { cwd }),
  });
  let output = '';
  const exited = once(child, 'exit');
  const signal = (name: NodeJS.Signals): void => {
    if (group && child.pid !== undefined) process.kill(-child.pid, name);
    else child.kill(name);
  };
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (data: Buffer): void => {
      output += data.toString();
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await stop(1_000);
    throw error;
  });
  return { process: { child, output: () => output, stop }, match };
}

/** Runs `ream serve --port 0 …args` from source and resolves once it listens (its log names the URL). */
export async function startServeProcess(args: readonly string[], env: Record<string, string> = {}, timeoutMs = STARTUP_TIMEOUT_MS): Promise<ServeProcess> {
  const { process: serve, match } = await startReamProcess(['serve', '--port', '0', ...args], env, LISTENING, timeoutMs);
  return { ...serve, url: match[1] ?? '' };
}
