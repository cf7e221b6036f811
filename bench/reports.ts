// Reports (issue 13, part 7): N rows of a CSV rendered to PDF, ream's rows pipeline (template,
// pdf, files in the blob store, checkpoints, events) against a bare LiquidJS + playwright-core
// loop with the same number of Chromium pages, each side in a process of its own, sampled for
// the resident memory of its whole process tree (Node and Chromium). `node bench/reports.ts` runs it alone.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const ROWS = Number(process.env.REAM_BENCH_REPORT_ROWS ?? 1000);
const PAGES = 2;

interface SideResult {
  side: string;
  rows: number;
  wallS: number;
  nodeMaxRssMb: number;
  treePeakMb: number;
}

/** Resident MB of `pid` and all its descendants, from /proc (0 where there is no /proc). */
async function treeRssMb(root: number): Promise<number> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(entry), Number(fields[1]));
    rss.set(Number(entry), Number(fields[21]) * 4096);
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) {
        total += bytes;
        break;
      }
    }
  }
  return total / 2 ** 20;
}

async function runSide(side: 'ream' | 'bare'): Promise<SideResult> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./reports-side.ts', import.meta.url)), side, String(ROWS), String(PAGES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) void treeRssMb(child.pid).then((mb) => (peak = Math.max(peak, mb)));
  }, 250);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`the ${side} side exited ${code}`);
  return { ...(JSON.parse(out.trim()) as Omit<SideResult, 'treePeakMb'>), treePeakMb: peak };
}

export async function run(): Promise<string> {
  const bare = await runSide('bare');
  const ream = await runSide('ream');
  const rate = (r: SideResult): number => r.rows / r.wallS;
  const row = (name: string, r: SideResult): string => `| ${name} | ${r.wallS.toFixed(1)} | ${rate(r).toFixed(1)} | ${r.treePeakMb.toFixed(0)} | ${r.nodeMaxRssMb.toFixed(0)} |`;
  return [
    `## Reports: ${ROWS} rows to PDF, ${PAGES} Chromium pages`,
    '',
    'A CSV\'s rows rendered with a Liquid template and printed to A4 PDF. ream: the `rows` pipeline with `template`, `name`, `pdf` (sandboxed',
    'template, a checkpoint per 50 rows, every file into the blob store, events). Bare: LiquidJS and playwright-core',
    'by hand, writing each PDF to a folder, with the same number of pages. Each side in a process of its own; "tree peak"',
    'is the resident memory of that process and its Chromium processes, sampled every 250 ms.',
    '',
    '| | wall s | reports/s | tree peak MB | Node max RSS MB |',
    '|---|---|---|---|---|',
    row('bare playwright loop', bare),
    row('ream rows --pdf', ream),
    '',
    `ream / bare: **${(rate(ream) / rate(bare)).toFixed(2)}×** the reports per second (goal ≥ 0.8×).`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${await run()}\n`);
