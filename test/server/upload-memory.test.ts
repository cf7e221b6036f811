import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { makePdf } from '../support/make-pdf.ts';
import { startServeProcess, type ServeProcess } from '../support/serve-process.ts';

const MIB = 1024 * 1024;
const UPLOAD_BYTES = 512 * MIB;
const CHUNK_BYTES = 16 * MIB;
/** Room for the partial tus file and the stored blob (512 MiB each) with some to spare. */
const NEEDED_DISK_BYTES = 1.5 * 1024 ** 3;
/**
 * How much the server's peak RSS may grow over its idle baseline while 512 MiB pass through
 * (half a GiB is plenty to tell streaming from buffering, at half the CPU of a whole one).
 * Measured here: +61 to +64 MiB (a 16 MiB chunk in flight, stream buffers, heap growth). A server
 * that held the whole upload would add ≥ 512 MiB; one that kept every chunk a while, hundreds of MiB.
 */
const MAX_GROWTH_BYTES = 150 * MIB;

interface Memory {
  rss: number;
  peak: number;
}

/** VmRSS (now) and VmHWM (the peak so far) of a process, in bytes. */
async function memoryOf(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * `bytes` of PDF-like content produced as it is read (never held whole): a `%PDF-` header, then
 * pseudo-random bytes, 1 MiB at a time. `hash` sees every byte it hands out.
 */
function generatedPdf(bytes: number, hash: ReturnType<typeof createHash>): Readable {
  let produced = 0;
  return new Readable({
    read() {
      if (produced >= bytes) {
        this.push(null);
        return;
      }
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(MIB, bytes - produced)));
      if (produced === 0) chunk.write('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

let dir: string;
let serve: ServeProcess | undefined;
let skip: string | false = false;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-upload-memory-'));
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < NEEDED_DISK_BYTES) {
    const why = `needs ${NEEDED_DISK_BYTES / 1024 ** 3} GB free in ${tmpdir()}, has ${(free / 1024 ** 3).toFixed(1)} GB`;
    if (process.env.CI === 'true') throw new Error(why);
    skip = why;
    return;
  }
  serve = await startServeProcess(['--data-dir', join(dir, 'data'), '--threads', '1']);
});
after(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a 512 MiB tus upload keeps the server memory flat and is stored intact', { timeout: 900_000 }, async (t) => {
  if (skip !== false || !serve) {
    t.skip(skip || 'no server');
    return;
  }
  const pid = serve.child.pid;
  assert.ok(pid !== undefined);
  const client = new ReamClient({ baseUrl: serve.url });
  // Warm up every code path of an upload (tus, sniffing, the blob store), then take the idle baseline.
  await client.upload(Buffer.from(await makePdf({ pages: ['warm-up'] })), { name: 'warm.pdf' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const baseline = await memoryOf(pid);

  const hash = createHash('sha256');
  let sampledPeak = baseline.rss;
  const sampler = setInterval(() => {
    memoryOf(pid).then((m) => (sampledPeak = Math.max(sampledPeak, m.rss)), () => undefined);
  }, 100);
  const started = Date.now();
  let stored;
  try {
    stored = await client.upload(generatedPdf(UPLOAD_BYTES, hash), { name: 'generated.pdf', size: UPLOAD_BYTES, chunkSizeBytes: CHUNK_BYTES, retryDelays: [] });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  const end = await memoryOf(pid);
  const growth = Math.max(end.peak, sampledPeak) - baseline.rss;
  t.diagnostic(
    `512 MiB in ${seconds.toFixed(1)} s; server RSS idle ${(baseline.rss / MIB).toFixed(0)} MiB, ` +
      `peak ${(Math.max(end.peak, sampledPeak) / MIB).toFixed(0)} MiB (+${(growth / MIB).toFixed(0)} MiB)`,
  );

  assert.equal(stored.size, UPLOAD_BYTES);
  assert.equal(stored.mediaType, 'application/pdf');
  assert.equal(stored.sha256, hash.digest('hex'), 'the server stored exactly the bytes sent');
  assert.ok(growth < MAX_GROWTH_BYTES, `peak RSS grew by ${(growth / MIB).toFixed(0)} MiB (limit ${MAX_GROWTH_BYTES / MIB} MiB)`);
});
