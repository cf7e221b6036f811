// `ream tenants` on a data dir (grant, quotas, show, list, export, refusals), and the ledger's
// exactly-once settlement across a kill -9: a server reserves a job's credits and is killed
// before working on it; the next process finishes the job and settles it once, however often it opens.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { makePdf } from '../support/make-pdf.ts';
import { runReam } from '../support/run-ream.ts';
import { startServeProcess } from '../support/serve-process.ts';

async function ream(args: string[]): Promise<string> {
  const run = await runReam(args);
  assert.equal(run.code, 0, `ream ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

test('ream tenants: grant, quotas, show, list and export work on a data dir; bad input is a usage error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-tenants-cli-'));
  try {
    const at = ['--data-dir', dir];
    assert.equal(await ream(['tenants', 'grant', 'acme', '40', '--reason', 'trial', '--key', 'trial-1', ...at]), 'acme\t40\n');
    const repeat = await runReam(['tenants', 'grant', 'acme', '40', '--reason', 'trial', '--key', 'trial-1', ...at]);
    assert.equal(repeat.stdout, 'acme\t40\n', 'a repeated key grants nothing more');
    assert.match(repeat.stderr, /used already/);
    assert.equal(await ream(['tenants', 'grant', 'acme', '-5', '--reason', 'correction', ...at]), 'acme\t35\n');
    assert.equal(await ream(['tenants', 'quotas', 'acme', '--pages-per-day', '100', '--storage-bytes', '5000', ...at]), 'acme\t35\t0/100\t0/-\t0/5000\n');
    assert.equal(await ream(['tenants', 'grant', 'other', '3', '--reason', 'x', ...at]), 'other\t3\n');
    assert.equal(await ream(['tenants', 'list', ...at]), 'acme\t35\t0/100\t0/-\t0/5000\nother\t3\t0/-\t0/-\t0/-\n');
    const shown = JSON.parse(await ream(['tenants', 'show', 'acme', ...at])) as { balance: number; quotas: Record<string, number> };
    assert.deepEqual([shown.balance, shown.quotas], [35, { pagesPerDay: 100, storageBytes: 5000 }]);
    const lines = (await ream(['tenants', 'export', 'acme', ...at])).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; amount: number; reason: string });
    assert.deepEqual(lines.map((e) => [e.kind, e.amount, e.reason]), [['grant', 40, 'trial'], ['grant', -5, 'correction']]);
    assert.equal((await ream(['tenants', 'export', ...at])).trim().split('\n').length, 3, 'every tenant without one');

    // "none" lifts a quota (it was stored as 0, a limit that refuses everything).
    assert.equal(await ream(['tenants', 'quotas', 'other', '--pages-per-day', 'none', '--storage-bytes', '9', ...at]), 'other\t3\t0/-\t0/-\t0/9\n');
    // A mistyped data dir: reading it is refused (nothing made); a grant makes it, and says so.
    const typo = await runReam(['tenants', 'list', '--data-dir', join(dir, 'no-such-dir')]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no data dir .*no-such-dir.*\[not_found\]/);
    assert.equal(existsSync(join(dir, 'no-such-dir')), false, 'no store was made in a mistyped folder');
    const first = await runReam(['tenants', 'grant', 'acme', '1', '--reason', 'x', '--data-dir', join(dir, 'new-dir')]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /made the data dir .*new-dir: no server has used it yet/);

    for (const bad of [['grant', 'acme', '1.5', '--reason', 'x'], ['grant', 'acme', '0', '--reason', 'x'], ['grant', 'acme', '5'], ['quotas', 'acme', '--pages-per-day', '-1']]) {
      const run = await runReam(['tenants', ...bad, ...at]);
      assert.notEqual(run.code, 0, bad.join(' '));
      assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/, 'a message, not a stack');
    }
    const audit = await createReam({ dataDir: dir, work: false });
    try {
      const grants = await audit.listAudit({ action: 'credits.grant', limit: 10 });
      assert.deepEqual(grants.map((g) => [g.tenantId, g.subject, (g.details as { amount: number }).amount]), [['acme', 'cli', 40], ['acme', 'cli', -5], ['other', 'cli', 3]]);
      // Quotas too, under the tenant they changed, with the numbers before and after.
      const quotas = await audit.listAudit({ action: 'quotas.set', limit: 10 });
      assert.deepEqual(quotas.map((q) => [q.tenantId, q.subject, q.target, q.details]), [
        ['acme', 'cli', 'acme', { quotas: { pagesPerDay: 100, storageBytes: 5000 }, before: {} }],
        ['other', 'cli', 'other', { quotas: { storageBytes: 9 }, before: {} }],
      ]);
    } finally {
      await audit.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('kill -9 after the reservation: the next process finishes the job and settles it once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-tenants-kill-'));
  try {
    const dataDir = join(dir, 'data');
    await ream(['tenants', 'grant', 'local', '10', '--reason', 'trial', '--data-dir', dataDir]);
    const serve = await startServeProcess(['--data-dir', dataDir, '--no-work', '--price-page', '2']);
    let jobId: string;
    try {
      const body = new FormData();
      body.append('file', new Blob([await makePdf({ pages: ['one', 'two', 'three'] })], { type: 'application/pdf' }), 'a.pdf');
      const response = await fetch(`${serve.url}/v1/jobs`, { method: 'POST', body });
      assert.equal(response.status, 202, await response.clone().text());
      jobId = ((await response.json()) as { id: string }).id;
      const credits = (await (await fetch(`${serve.url}/v1/credits`)).json()) as { balance: number };
      assert.equal(credits.balance, 8, 'the estimate (a page at 2) is held');
    } finally {
      const exited = once(serve.child, 'exit');
      serve.child.kill('SIGKILL');
      await exited;
    }
    for (let open = 0; open < 2; open++) {
      const next = await createReam({ dataDir, threads: 1, credits: { prices: { page: 2 } } });
      try {
        assert.equal((await next.wait(jobId)).status, 'succeeded');
        const entries = await next.tenants.listCredits({ jobId, limit: 10 });
        assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [['reserve', -2], ['reserve', -4], ['finalize', 6 - 6]], `open ${open}: settled once`);
        assert.equal((await next.tenants.tenant('local')).balance, 4, 'three pages at 2 from 10');
      } finally {
        await next.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ream serve refuses a malformed price flag or price file before opening anything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-prices-'));
  try {
    const file = join(dir, 'prices.json');
    await writeFile(file, JSON.stringify({ page: 1, perSmile: 2 }));
    const runs = [
      ['--price-page', '-1'],
      ['--price-llm-prompt-1k', 'lots'],
      ['--credit-prices', file],
      ['--credit-prices', join(dir, 'missing.json')],
    ];
    for (const flags of runs) {
      const run = await runReam(['serve', '--port', '0', '--data-dir', join(dir, 'data'), ...flags]);
      assert.equal(run.code, 2, `${flags.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /credits ≥ 0|unknown price "perSmile"|ENOENT/, flags.join(' '));
      assert.doesNotMatch(run.stderr, /unknown option|listening/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ream serve says what to change for a port in use or out of range, a short JWT secret and an unreadable JWKS (validation_failed, exit 2)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-serve-flags-'));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = String((taken.address() as AddressInfo).port);
    await writeFile(join(dir, 'not-json'), 'plain text');
    const runs: Array<[string[], RegExp]> = [
      [['--port', port], new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: choose another --port`)],
      [['--port', '99999'], /a port is at most 65535/],
      [['--jwt-secret', ''], /the JWT secret must be at least 32 characters/],
      [['--jwt-secret', 'abc'], /the JWT secret must be at least 32 characters/],
      [['--jwks', join(dir, 'missing.json')], /cannot read the JWKS file .*missing\.json/],
      [['--jwks', join(dir, 'not-json')], /the JWKS file .*not-json is not JSON/],
    ];
    for (const [flags, message] of runs) {
      const run = await runReam(['serve', '--data-dir', join(dir, 'data'), ...(flags[0] === '--port' ? [] : ['--port', '0']), ...flags]);
      assert.equal(run.code, 2, `${flags.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, flags.join(' '));
      assert.doesNotMatch(run.stderr, /\[internal\]/, flags.join(' '));
    }
  } finally {
    taken.close();
    await rm(dir, { recursive: true, force: true });
  }
});
