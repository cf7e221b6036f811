import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from '../reports/artifacts.ts';
import type { Ream } from '../runtime/create-ream.ts';

/** `reports/2026-03-04T10-20-30Z`: the job's own folder under --out-dir, named by when it was created, so a resumed run writes into the same one. */
export function reportsFolder(outDir: string, jobCreatedAt: number): string {
  return join(outDir, new Date(jobCreatedAt).toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-'));
}

/**
 * Writes the job's reports into `folder`: a file already there with the report's size is kept
 * (a re-run writes only what is missing), every other one written beside and renamed, so that
 * no half-written report is ever left under its own name. Answers how many were written.
 */
export async function writeReports(ream: Ream, artifacts: readonly Artifact[], folder: string): Promise<number> {
  await mkdir(folder, { recursive: true });
  let written = 0;
  for (const artifact of artifacts) {
    const path = join(folder, artifact.name);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isFile() && existing.size === artifact.size) continue;
    const partial = `${path}.partial`;
    await pipeline(await ream.artifactBytes(artifact), createWriteStream(partial));
    await rename(partial, path);
    written++;
  }
  return written;
}
