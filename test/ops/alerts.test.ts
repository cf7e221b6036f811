// The alerting rules of docs/prometheus/alerts.yml: valid for Prometheus (`promtool check
// rules`), firing and staying quiet as their unit cases say (`promtool test rules`), and naming
// only metrics a real ream server exposes. promtool comes with Debian's `prometheus` package.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { hasCommand, repoRoot, requireOrSkip } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';

const run = promisify(execFile);
const RULES = join(repoRoot, 'docs/prometheus/alerts.yml');
const CASES = join(repoRoot, 'test/ops/alerts.promtest.yml');

test('promtool accepts the rules and their unit cases pass', async (t) => {
  if (!requireOrSkip(t, hasCommand('promtool'), 'promtool (Debian package prometheus)')) return;
  const checked = await run('promtool', ['check', 'rules', RULES]);
  assert.match(checked.stdout, /SUCCESS: 8 rules found/);
  const tested = await run('promtool', ['test', 'rules', CASES]);
  assert.match(tested.stdout, /SUCCESS/);
});

test('every metric the rules name is one a ream server exposes', async () => {
  const named = new Set((await readFile(RULES, 'utf8')).match(/\bream_[a-z_]+/g) ?? []);
  assert.ok(named.size >= 7, `rules name ${[...named].join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'ream-alerts-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  try {
    // One good and one bad document, so that the labelled counters have their series.
    const body = new FormData();
    body.append('file', new Blob([await makePdf({ pages: ['ok'] })], { type: 'application/pdf' }), 'ok.pdf');
    body.append('file', new Blob(['%PDF-1.7\nnot really'], { type: 'application/pdf' }), 'bad.pdf');
    const job = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', body })).json()) as { id: string };
    await ream.wait(job.id);
    const exposition = await (await fetch(`${server.url}/metrics`)).text();
    const exposed = new Set([...exposition.matchAll(/^# TYPE (ream_[a-z_]+) (\w+)$/gm)].flatMap(([, name = '', type]) =>
      type === 'histogram' ? [name, `${name}_count`, `${name}_sum`, `${name}_bucket`] : [name]));
    assert.deepEqual([...named].filter((name) => !exposed.has(name)), [], 'metrics the rules name but the server does not expose');
    assert.match(exposition, /ream_documents_processed_total\{outcome="failed"\} 1/);
  } finally {
    await server.close();
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});
