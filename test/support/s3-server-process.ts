import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestS3Server } from './s3-server.ts';

/**
 * {@link startS3Server} in a child process (s3-server-main.ts): the same server, whose memory is
 * not this process's. For tests that hold ream's S3 client to a memory bound.
 */
export async function startS3ServerProcess(): Promise<TestS3Server> {
  const child = spawn(process.execPath, [new URL('./s3-server-main.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => { throw new Error('the S3 server process exited before it was ready'); })])) as [string];
  lines.close();
  const details = JSON.parse(line) as Omit<TestS3Server, 'close'>;
  return {
    ...details,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
