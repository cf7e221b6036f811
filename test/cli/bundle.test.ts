// The `ream` binary runs the CLI's bundle (dist/bundle/, scripts/bundle-cli.ts) when the package
// is built; every other CLI test runs the sources (REAM_FROM_SOURCE). These run the binary on the
// bundle, as a user does, once for each part that finds a file by its own module's URL: the pool
// threads' module, the PDF engines' files, the console's build and package.json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { repoRoot, requireOrSkip } from '../support/env.ts';
import { startServeProcess } from '../support/serve-process.ts';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster } from '../support/cluster.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const BUNDLE = join(repoRoot, 'dist/bundle/main.js');
const BIN = join(repoRoot, 'bin/ream.js');
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** Without REAM_FROM_SOURCE: bin/ream.js picks the bundle. */
const BUNDLE_ENV = { ...process.env, REAM_FROM_SOURCE: '' };

/** Why the bundle cannot be tested (absent, or older than a source), or undefined when it is current. */
async function bundleProblem(): Promise<string | undefined> {
  const built = await stat(BUNDLE).catch(() => undefined);
  if (!built) return 'dist/bundle/ (npm run build) is not there';
  const src = join(repoRoot, 'src');
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    if (statSync(path).mtimeMs > built.mtimeMs) return `dist/bundle/ is older than src/${relative(src, path)} (npm run build)`;
  }
  return undefined;
}

const problem = await bundleProblem();
const usable = (t: TestContext): boolean => requireOrSkip(t, problem === undefined, `a current build of the CLI bundle: ${problem ?? ''}`);

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-bundle-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function ream(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, ...args], { cwd: dir, env: BUNDLE_ENV, timeout: 120_000 });
}

void test('ream --version from the bundle: the version of package.json', async (t) => {
  if (!usable(t)) return;
  assert.equal((await ream(['--version'])).stdout.trim(), version);
});

void test('ream rows from the bundle: rows read in the pool threads, rules run, the table written back', async (t) => {
  if (!usable(t)) return;
  const input = join(dir, 'orders.csv');
  await writeFile(input, 'order,note\n1,"Invoice INV-7, urgent"\n2,paid\n');
  await writeFile(join(dir, 'rules.json'), JSON.stringify([{ name: 'invoice', pattern: String.raw`INV-(\d+)` }, { name: 'flag', keywords: ['urgent'] }]));
  await ream(['rows', input, '--rules', 'rules.json', '--out', 'out.csv', '--data-dir', 'rows-data', '--progress', 'none']);
  assert.equal(await readFile(join(dir, 'out.csv'), 'utf8'), 'order,note,invoice,flag,error_code,error_message\n1,"Invoice INV-7, urgent",7,urgent,,\n2,paid,,,,\n');
});

void test('ream run from the bundle: a PDF read by each engine in the pool threads', async (t) => {
  if (!usable(t)) return;
  await writePdf(join(dir, 'book.pdf'), { pages: numberedPages('Bundle', 3) });
  for (const engine of ['pdfium', 'pdfjs']) {
    const results = `${engine}.jsonl`;
    await ream(['run', 'book.pdf', '--pdf-engine', engine, '--out', results, '--data-dir', `run-${engine}`, '--progress', 'none']);
    const [line] = (await readFile(join(dir, results), 'utf8')).trim().split('\n');
    const result = JSON.parse(line ?? '{}') as { pages?: Array<{ page: number; text: string }> };
    assert.deepEqual(result.pages?.map((page) => page.page), [1, 2, 3], engine);
    assert.match(result.pages?.[2]?.text ?? '', /Bundle page 3 of 3/, engine);
  }
});

void test('ream serve from the bundle: the console and the OpenAPI document', async (t) => {
  if (!usable(t)) return;
  const serve = await startServeProcess(['--data-dir', join(dir, 'serve-data')], { REAM_FROM_SOURCE: '' });
  try {
    const page = await fetch(`${serve.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module"/);
    const openapi = (await (await fetch(`${serve.url}/openapi.json`)).json()) as { info?: { version?: string } };
    assert.equal(openapi.info?.version, version);
  } finally {
    await serve.stop();
  }
});

void test('ream serve and ream worker from the bundle: a job on Redis, PostgreSQL and S3, read in the worker', { timeout: 300_000 }, async (t) => {
  if (!usable(t)) return;
  const missing = (await redisUnavailable()) ?? (await postgresUnavailable());
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 1, fromBundle: true });
  try {
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const { id } = await client.submit({ files: [{ name: 'book.pdf', data: await makePdf({ pages: numberedPages('Worker', 2) }) }] });
    const ended = await client.wait(id);
    assert.equal(ended.status, 'succeeded', cluster.output());
    const [result] = await client.results(id);
    assert.match(result?.pages.map((page) => page.text).join('\n') ?? '', /Worker page 2 of 2/);
  } finally {
    await cluster.stop();
  }
});
