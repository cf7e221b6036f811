// The paths a download ticket may be bound to, and how a request's URL is matched against the
// binding: exact path, the same query in any order, `ticket` itself left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueDownloadTicket, parseDownloadPath, redeemDownloadTicket } from '../../src/server/auth/download-tickets.ts';
import { localCoordination } from '../../src/server/coordination.ts';
import { ReamError } from '../../src/errors.ts';

const ALICE = { tenantId: 'tenant-a', role: 'user', subject: 'key-1' } as const;

void test('download and artifact routes parse to their job; anything else is validation_failed', () => {
  assert.equal(parseDownloadPath('/v1/jobs/j%201/download?format=xlsx&formulas=keep').jobId, 'j 1');
  assert.equal(parseDownloadPath('/v1/jobs/j1/documents/d1/download').jobId, 'j1');
  assert.equal(parseDownloadPath('/v1/jobs/j1/artifacts/INV%20001.pdf').jobId, 'j1');
  assert.equal(parseDownloadPath('/v1/jobs/j1/artifacts.zip').jobId, 'j1');
  for (const path of ['/v1/jobs/j1/results', '/v1/jobs/j1/artifacts', '/v1/jobs/j1/download/', '//v1/jobs/j1/download', '/v1/jobs/%E0%A4%A/download', '/v1/jobs/j1/download#x', '/v1/jobs/j1/./download', `/v1/jobs/${'j'.repeat(2100)}/download`, '/v1/jobs/j1/artifacts/a?range=1']) {
    assert.throws(() => parseDownloadPath(path), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed', path);
  }
});

void test('a ticket matches its path as a browser sends it, and its query in any order', async () => {
  const coordination = localCoordination();
  const redeem = async (path: string, sent: (url: string) => string): ReturnType<typeof redeemDownloadTicket> => {
    const { url } = await issueDownloadTicket(coordination, ALICE, path);
    return redeemDownloadTicket(coordination, url.slice(url.indexOf('ticket=') + 7), sent(url));
  };
  assert.deepEqual(await redeem('/v1/jobs/j1/artifacts/INV 001.pdf', (url) => url.replace(' ', '%20')), { principal: ALICE }, 'a space the browser encodes');
  assert.deepEqual(await redeem('/v1/jobs/j1/download?format=csv&formulas=keep', (url) => url.replace('format=csv&formulas=keep&', 'formulas=keep&format=csv&')), { principal: ALICE });
  assert.ok('refused' in (await redeem('/v1/jobs/j1/download?format=csv', (url) => url.replace('/j1/', '/j2/'))), 'another job');
  assert.ok('refused' in (await redeem('/v1/jobs/j1/download?format=csv', (url) => url.replace('format=csv', 'format=csv&format=json'))), 'a query added');
  assert.ok('refused' in (await redeem('/v1/jobs/j1/download?format=csv', (url) => `${url}&ticket=dlt_other`)), 'two tickets');
  assert.ok('refused' in (await redeemDownloadTicket(coordination, 'wst_not-a-download-ticket', '/v1/jobs/j1/download?ticket=wst_not-a-download-ticket')));
});
