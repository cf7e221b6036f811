import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './env.ts';

export interface ReamRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunReamOptions {
  /** Added to (and overriding) the base environment. */
  env?: Record<string, string>;
  /** The environment to start from. Default: this process's. */
  baseEnv?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs the `ream` binary from source to its end, collecting its output and exit code. */
export function runReam(args: readonly string[], options: RunReamOptions = {}): Promise<ReamRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/ream.js'), ...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { ...(options.baseEnv ?? process.env), REAM_FROM_SOURCE: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
