// What Linux's /proc says about the machine and a process, for benches that share the machine:
// how busy all the cores were (others' work included) and a process's open-files limit.
// Elsewhere both give undefined and the bench prints n/a.
import { readFile } from 'node:fs/promises';

export interface CpuTicks {
  busy: number;
  total: number;
}

/** Cumulative ticks of every core, from the "cpu" line of /proc/stat. */
export async function machineCpuTicks(): Promise<CpuTicks | undefined> {
  const stat = await readFile('/proc/stat', 'utf8').catch(() => undefined);
  const line = stat?.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  // user nice system idle iowait irq softirq steal (guest time, after them, is counted in user
  // already): idle and iowait are the idle time.
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy between two readings, in % of one core (200 = two cores busy). */
export function busyPercent(from: CpuTicks | undefined, to: CpuTicks | undefined, cores: number): number {
  if (from === undefined || to === undefined || to.total === from.total) return NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * cores * 100;
}

/** The soft "Max open files" limit of a process. */
export async function openFilesLimit(pid: number): Promise<string | undefined> {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => undefined);
  return limits?.split('\n').find((l) => l.startsWith('Max open files'))?.split(/\s{2,}/)[1];
}
