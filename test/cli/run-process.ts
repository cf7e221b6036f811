import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/env.ts';

// `ream run` as a child process, for run.test.ts and run-interrupt.test.ts.

const BIN = join(repoRoot, 'bin/ream.js');

export function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, REAM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args, cwd, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  return { code, stdout, stderr };
}

/** {@link run}, killed (SIGKILL) if still running after `ms`: a hang fails the test instead of stalling it. */
export async function runWithin(ms: number, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const child = start(args, cwd, env);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, ms);
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}
