import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploymentFromFlags } from '../../src/cli/deployment-flags.ts';
import { ReamError } from '../../src/errors.ts';
import { runReam } from '../support/run-ream.ts';

const env = { REAM_REDIS_URL: 'redis://127.0.0.1:1', REAM_DATABASE_URL: 'postgres://127.0.0.1:1/x', REAM_S3_BUCKET: 'b' };

void test('the PostgreSQL statement timeout comes from --pg-statement-timeout, else REAM_PG_STATEMENT_TIMEOUT_MS, else the 30 s default', () => {
  assert.equal(deploymentFromFlags({}, env)?.queryTimeoutMs, undefined);
  assert.equal(deploymentFromFlags({}, { ...env, REAM_PG_STATEMENT_TIMEOUT_MS: '120000' })?.queryTimeoutMs, 120_000);
  assert.equal(deploymentFromFlags({ pgStatementTimeout: '5000' }, { ...env, REAM_PG_STATEMENT_TIMEOUT_MS: '120000' })?.queryTimeoutMs, 5_000);
  for (const bad of ['0', '-1', '1.5', '30s', '2147483648', '99999999999999999999']) {
    assert.throws(() => deploymentFromFlags({}, { ...env, REAM_PG_STATEMENT_TIMEOUT_MS: bad }), (error: unknown) => {
      assert.ok(error instanceof ReamError && error.code === 'validation_failed', String(error));
      assert.match(error.message, /REAM_PG_STATEMENT_TIMEOUT_MS\) must be a whole number of ms from 1 to 2147483647/);
      return true;
    }, bad);
  }
});

void test('ream worker refuses a statement timeout that is no number of ms before reaching any service', async () => {
  const run = await runReam(['worker', '--pg-statement-timeout', 'soon'], { env });
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /--pg-statement-timeout \(REAM_PG_STATEMENT_TIMEOUT_MS\) must be a whole number of ms from 1 to 2147483647, not "soon" \[validation_failed\]/);
});
