import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { startServeProcess } from '../support/serve-process.ts';

// `ream serve --log-level`: the debug lines the docs promise (a refused token) can be seen, and
// a quieter server logs no line per request; neither ever logs the token itself. Recovery at start
// logs its duration.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-log-level-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusedRequest(url: string): Promise<string> {
  const forged = await new SignJWT({ tenant: 't' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode('not-the-secret-of-this-server'));
  const response = await fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(response.status, 401);
  return forged;
}

test('--log-level debug shows a refused token as one debug line, without the token', async () => {
  const serve = await startServeProcess(['--data-dir', join(dir, 'debug'), '--jwt-secret', 'the-secret-of-this-server-0123456789', '--log-level', 'debug']);
  try {
    const forged = await refusedRequest(serve.url);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = serve.output().split('\n').filter((line) => line.includes('bearer token refused'));
    assert.equal(lines.length, 1, serve.output());
    assert.equal((JSON.parse(lines[0] ?? '{}') as { level?: number }).level, 20);
    assert.ok(!serve.output().includes(forged), 'the token is never logged');
    assert.ok(!serve.output().includes('the-secret-of-this-server'), 'nor the secret');
    // Recovery at start runs while the server serves, and says when it is done and how long it took.
    const recovered = serve.output().split('\n').filter((line) => /recovery at start done in \d+ ms/.test(line));
    assert.equal(recovered.length, 1, serve.output());
    assert.equal((JSON.parse(recovered[0] ?? '{}') as { level?: number }).level, 30);
  } finally {
    await serve.stop();
  }
});

test('--log-level warn logs no line per request; an unknown level is a usage error', async () => {
  const serve = await startServeProcess(['--data-dir', join(dir, 'warn'), '--jwt-secret', 'the-secret-of-this-server-0123456789', '--log-level', 'warn']);
  try {
    await refusedRequest(serve.url);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.doesNotMatch(serve.output(), /incoming request|request completed|bearer token refused/);
  } finally {
    await serve.stop();
  }
  await assert.rejects(startServeProcess(['--data-dir', join(dir, 'bad'), '--log-level', 'loud'], {}, 60_000), /log-level/);
});
