import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from '../reports/artifacts.ts';
import type { Ream } from '../runtime/create-ream.ts';
import { makeFolders } from '../make-folders.ts';
import { writeFailure } from './write-failure.ts';

/**
 * `reports/2026-03-04T10-20-30Z-1a2b3c4d`: the job's own folder under --out-dir, named by when
 * the job was created and the start of its id, so that a resumed run writes into the same one
 * and two jobs created in the same second never share one.
 */
export function reportsFolder(outDir: string, job: { id: string; createdAt: number }): string {
  const when = new Date(job.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
  return join(outDir, `${when}-${job.id.replace(/^job_/, '').slice(0, 8)}`);
}

/**
 * Whether the reports can go under `outDir`, checked before the job runs: the folder is made and a
 * folder made and removed in it, as each run's is (io_error naming it, not after every row ran).
 */
export function checkReportsFolder(outDir: string): void {
  try {
    makeFolders(outDir);
    rmdirSync(mkdtempSync(join(outDir, '.ream-check-')));
  } catch (error) {
    throw writeFailure(`the reports folder ${outDir}`, error);
  }
}

/** The sha256 of the file at `path`, hex. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Whether `path` holds exactly `artifact`'s bytes (its size, then its sha256). */
async function holds(path: string, artifact: Artifact): Promise<boolean> {
  const existing = await stat(path).catch(() => undefined);
  if (!existing?.isFile() || existing.size !== artifact.size) return false;
  return (await sha256Of(path).catch(() => undefined)) === artifact.sha256;
}

/**
 * Writes the job's reports into `folder`: a file already there with the report's bytes is kept
 * (a re-run writes only what is missing or differs: a retried row's report replaces what was
 * under its name), every other one written beside, under a name of its own, and renamed, so
 * that no half-written report is ever left under its name. Answers how many were written.
 */
export async function writeReports(ream: Ream, artifacts: readonly Artifact[], folder: string): Promise<number> {
  try {
    makeFolders(folder);
  } catch (error) {
    throw writeFailure(`the reports folder ${folder}`, error);
  }
  let written = 0;
  for (const artifact of artifacts) {
    const path = join(folder, artifact.name);
    if (await holds(path, artifact)) continue;
    const partial = `${path}.partial-${randomBytes(4).toString('hex')}`;
    try {
      const bytes = await ream.artifactBytes(artifact);
      await pipeline(bytes, createWriteStream(partial)).catch((error: unknown) => Promise.reject(writeFailure(`the report ${path}`, error)));
      await rename(partial, path).catch((error: unknown) => Promise.reject(writeFailure(`the report ${path}`, error)));
    } finally {
      await rm(partial, { force: true });
    }
    written++;
  }
  return written;
}
