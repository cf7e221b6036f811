// Many small files: `ream run` over folders of one-line text files, 1,000 and 4,000 of them, as
// the `ream` binary runs it (bin/ream.js, the CLI's bundle). What a pile of small documents costs
// per file, and whether that cost stays the same as the pile grows: each file's work in the store
// (its job document, events, counts) must not read all the job's other files, or the run takes
// the square of the pile's size. `node bench/many-files.ts` runs it alone; bench/run.ts includes it.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuildCurrent } from './ream-build.ts';

const SIZES = [1_000, 4_000];
const repeats = Number(process.env.BENCH_REPEATS ?? 2);
const bin = fileURLToPath(new URL('../bin/ream.js', import.meta.url));

async function makeFolder(root: string, files: number): Promise<string> {
  const dir = join(root, `files-${files}`);
  await mkdir(dir);
  for (let i = 0; i < files; i++) await writeFile(join(dir, `note-${i}.txt`), `note ${i}: paid invoice ${1000 + i}\n`);
  return dir;
}

/** One `ream run` of the folder in a fresh data dir, as a whole process. */
function runReam(root: string, folder: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const dataDir = join(root, `data-${Math.random().toString(36).slice(2)}`);
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'run', folder, '--data-dir', dataDir, '--out', join(dataDir, 'out.jsonl'), '--progress', 'none'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`ream run exited with ${code}`));
      void rm(dataDir, { recursive: true, force: true }).then(() => resolve(wallMs), reject);
    });
  });
}

export async function run(): Promise<string> {
  await assertBuildCurrent();
  const root = await mkdtemp(join(tmpdir(), 'ream-bench-many-'));
  try {
    const folders = new Map<number, string>();
    for (const size of SIZES) folders.set(size, await makeFolder(root, size));
    const best = new Map<number, number>();
    for (let round = 0; round < repeats; round++) {
      for (const size of SIZES) {
        process.stderr.write(`bench: many files, round ${round + 1}/${repeats}, ${size} files\n`);
        const wallMs = await runReam(root, folders.get(size) ?? '');
        best.set(size, Math.min(best.get(size) ?? Infinity, wallMs));
      }
    }
    const perFile = (size: number): number => (best.get(size) ?? 0) / size;
    const [small = 0, large = 0] = SIZES;
    const lines = [
      '## Many small files: `ream run` over 1,000 and 4,000 one-line text files',
      '',
      `\`ream run <folder> --progress none\` from the CLI's bundle, embedded mode, a fresh data dir each time, best of ${repeats} interleaved runs. ` +
        'Per file: the whole run\'s wall time ÷ the files. The ideal is a per-file cost that does not grow with the pile (ratio 1.00).',
      '',
      '| files | wall s | files/s | ms per file |',
      '|---:|---:|---:|---:|',
      ...SIZES.map((size) => `| ${size} | ${((best.get(size) ?? 0) / 1000).toFixed(2)} | ${Math.round(size / ((best.get(size) ?? 1) / 1000))} | ${perFile(size).toFixed(2)} |`),
      '',
      `Per-file cost at ${large} files ÷ at ${small} files: **${(perFile(large) / perFile(small)).toFixed(2)}** (ideal 1.00).`,
    ];
    return `${lines.join('\n')}\n`;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.main) process.stdout.write(await run());
