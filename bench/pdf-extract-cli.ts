// Child process of bench/pdf-extract.ts: the whole `ream run` path over the given files, in a
// fresh data dir. `node bench/pdf-extract-cli.ts <threads> <file>...` → one JSON line on stdout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/cli/run-command.ts';

const [threadsArg = '1', ...files] = process.argv.slice(2);
const dir = await mkdtemp(join(tmpdir(), 'ream-bench-cli-'));
try {
  const summary = await runCommand(files, {
    out: join(dir, 'out.jsonl'),
    dataDir: join(dir, 'data'),
    threads: Number(threadsArg),
    text: 'none',
    resume: false,
    progress: 'none',
  }, new AbortController().signal);
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({
    pages: summary.pages,
    failures: summary.failed,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    maxRssKb: usage.maxRSS,
  })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
