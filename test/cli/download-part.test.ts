// `ream download --out` writes a `.part` beside its target first: a download stopped by Ctrl-C or
// SIGTERM removes it, and one a killed download left behind is replaced by the next download to
// the same target, not added to nor left to pile up.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, start } from './run-process.ts';

const BODY = 'a,b\n1,2\n';
let dir: string;
let url: string;
let server: Server;
/** The held downloads' ends, by their fill character. */
const held = new Map<string, () => void>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-download-part-'));
  // `/stall`: half the promised body, then nothing, the connection kept open (a slow server); any other job: the whole body.
  server = createServer((request, response) => {
    // `/hold_<c>`: half the body, `c` repeated, then the rest when the test lets it go (release()).
    const hold = /hold_(\w)/.exec(request.url ?? '');
    if (hold) {
      const fill = hold[1]!;
      response.writeHead(200, { 'content-type': 'text/csv', 'content-length': '1000', 'content-disposition': 'attachment; filename="job.csv"' });
      response.write(fill.repeat(500));
      held.set(fill, () => response.end(fill.repeat(500)));
      return;
    }
    if (request.url?.includes('stall')) {
      response.writeHead(200, { 'content-type': 'text/csv', 'content-length': '1000', 'content-disposition': 'attachment; filename="job.csv"' });
      response.write('x'.repeat(500));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(BODY.length), 'content-disposition': 'attachment; filename="job.csv"' });
    response.end(BODY);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** The `.part` files in `folder` that hold some bytes, waiting up to 15 s for one. */
async function partsWritten(folder: string): Promise<string[]> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(50)) {
    const parts = (await readdir(folder)).filter((name) => name.endsWith('.part'));
    const sizes = await Promise.all(parts.map(async (name) => (await stat(join(folder, name)).catch(() => ({ size: 0 }))).size));
    if (sizes.some((size) => size > 0)) return parts;
  }
  return assert.fail('no .part file was written');
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`a download stopped by ${signal} midway removes its .part and writes nothing; exit ${code}`, async () => {
    const folder = await mkdtemp(join(dir, `${signal}-`));
    const child = start(['download', 'job_stall', '--out', join(folder, 'out.csv'), '--server', url], folder, { REAM_SERVER: '' });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    assert.deepEqual(await partsWritten(folder), ['.out.csv.part']);
    child.kill(signal);
    const [exitCode] = await exited;
    assert.equal(exitCode, code, stderr);
    assert.match(stderr, new RegExp(`stopped \\(${signal}\\)`));
    assert.deepEqual(await readdir(folder), [], 'no .part left behind, no out.csv');
  });
}

test('a .part a killed download left is replaced by the next download to the same target, not appended to', async () => {
  const folder = await mkdtemp(join(dir, 'stale-'));
  await writeFile(join(folder, '.out.csv.part'), 'the first half of an earlier download, killed with SIGKILL\n');
  const done = await run(['download', 'job_whole', '--out', join(folder, 'out.csv'), '--server', url], folder, { REAM_SERVER: '' });
  assert.equal(done.code, 0, done.stderr);
  assert.equal(await readFile(join(folder, 'out.csv'), 'utf8'), BODY);
  assert.deepEqual(await readdir(folder), ['out.csv'], 'the stale .part is gone');
});

/** Waits up to 15 s for the `.part` in `folder` to begin with `fill` (the download holding it has written). */
async function partOf(folder: string, fill: string): Promise<void> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(50)) {
    if ((await readFile(join(folder, '.out.csv.part'), 'utf8').catch(() => '')).startsWith(fill)) return;
  }
  assert.fail(`no .part of ${fill} was written`);
}

function downloading(job: string, folder: string): { exited: Promise<[number | null]>; stderr: () => string; kill(signal: NodeJS.Signals): void } {
  const child = start(['download', job, '--out', join(folder, 'out.csv'), '--server', url], folder, { REAM_SERVER: '' });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { exited: once(child, 'exit') as Promise<[number | null]>, stderr: () => stderr, kill: (signal) => child.kill(signal) };
}

test('a download stopped by Ctrl-C leaves the .part of a later download to the same target, which replaced its own', async () => {
  const folder = await mkdtemp(join(dir, 'two-stopped-'));
  const first = downloading('job_hold_a', folder);
  await partOf(folder, 'a');
  const second = downloading('job_hold_b', folder);
  await partOf(folder, 'b');
  first.kill('SIGINT');
  assert.equal((await first.exited)[0], 130, first.stderr());
  assert.deepEqual(await readdir(folder), ['.out.csv.part'], 'the later download\'s .part is still there');
  held.get('b')!();
  assert.equal((await second.exited)[0], 0, second.stderr());
  assert.equal(await readFile(join(folder, 'out.csv'), 'utf8'), 'b'.repeat(1000));
  held.get('a')!();
});

test('a download whose .part a later download to the same target replaced does not put that half-written file in place', async () => {
  const folder = await mkdtemp(join(dir, 'two-ended-'));
  const first = downloading('job_hold_c', folder);
  await partOf(folder, 'c');
  const second = downloading('job_hold_d', folder);
  await partOf(folder, 'd');
  held.get('c')!();
  assert.equal((await first.exited)[0], 2, first.stderr());
  assert.match(first.stderr(), /another download to .*out\.csv replaced .*\[io_error\]/);
  assert.deepEqual(await readdir(folder), ['.out.csv.part'], 'no out.csv of half the later download');
  held.get('d')!();
  assert.equal((await second.exited)[0], 0, second.stderr());
  assert.equal(await readFile(join(folder, 'out.csv'), 'utf8'), 'd'.repeat(1000));
});
