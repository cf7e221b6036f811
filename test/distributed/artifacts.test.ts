// Distributed: a rows job with a template, run by a `ream worker`, its reports kept in S3 and
// served by `ream serve` (artifacts list, a download, the zip), its progress counted in rows.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { toCsv } from '../formats/sheet-files.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());
const CHROMIUM = '/usr/bin/chromium';

void test('distributed: reports rendered by a worker are job artifacts served by the server', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  if (!requireOrSkip(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`)) return;
  const cluster = await startCluster({ workers: 1, workerArgs: ['--concurrency', '2', '--threads', '1'] });
  try {
    const rows = [['no', 'who'], ...Array.from({ length: 5 }, (_, i) => [`N-${i + 1}`, `person ${i + 1}`])];
    const body = new FormData();
    body.append('pipeline', 'rows');
    body.append('options', JSON.stringify({ template: '<p>{{ no }}: {{ who }}</p>', name: '{{ no }}', pdf: true, chunkPages: 2 }));
    body.append('file', new Blob([toCsv(rows)], { type: 'text/csv' }), 'people.csv');
    const response = await fetch(`${cluster.server.url}/v1/jobs`, { method: 'POST', body });
    const text = await response.text();
    assert.equal(response.status, 202, text);
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const ended = await client.wait((JSON.parse(text) as { id: string }).id);
    assert.equal(ended.status, 'succeeded', cluster.output());
    assert.deepEqual(ended.progress.rows, { done: 5, total: 5 });

    const artifacts = await client.artifacts(ended.id);
    assert.deepEqual(artifacts.map((artifact) => artifact.name), ['N-1.html', 'N-1.pdf', 'N-2.html', 'N-2.pdf', 'N-3.html', 'N-3.pdf', 'N-4.html', 'N-4.pdf', 'N-5.html', 'N-5.pdf']);
    const html = Buffer.concat(await Array.fromAsync(await client.downloadArtifact(ended.id, 'N-4.html'))).toString();
    assert.equal(html, '<p>N-4: person 4</p>');
    const pdf = Buffer.concat(await Array.fromAsync(await client.downloadArtifact(ended.id, 'N-5.pdf')));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.equal(pdf.length, artifacts[9]?.size);
    const zip = Buffer.concat(await Array.fromAsync(await client.artifactsZip(ended.id)));
    assert.equal(zip.subarray(0, 2).toString(), 'PK');
    assert.ok(zip.length > artifacts.reduce((sum, artifact) => sum + (artifact.mediaType === 'application/pdf' ? artifact.size : 0), 0), 'the PDFs are stored, not compressed away');
  } finally {
    await cluster.stop();
  }
});
