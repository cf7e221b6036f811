import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/main.ts';
import { DEPLOYMENT_ENV } from '../../src/runtime/deployment.ts';
import { repoRoot } from '../support/env.ts';

interface ComposeService {
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
}

/**
 * No Docker engine runs here, so the compose file cannot be started in CI. This keeps it honest
 * instead: every ream service runs a real command with real flags, and sets exactly the
 * deployment's env vars; Redis has the settings ream requires.
 */
void test('compose.yaml: ream services use real commands, flags and env vars; Redis keeps an AOF and never evicts', async () => {
  const compose = parse(await readFile(join(repoRoot, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
  const program = buildProgram();
  const reamServices = Object.entries(compose.services).filter(([, service]) => service.build === '.');
  assert.deepEqual(reamServices.map(([name]) => name).sort(), ['migrate', 'server', 'worker']);
  const known = new Set<string>(Object.values(DEPLOYMENT_ENV));
  for (const [name, service] of reamServices) {
    const [commandName = '', ...args] = service.command ?? [];
    const command = program.commands.find((c) => c.name() === commandName);
    assert.ok(command, `${name}: no ream command "${commandName}"`);
    const flags = new Set(command.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined));
    for (const arg of args.filter((a) => a.startsWith('-'))) assert.ok(flags.has(arg), `${name}: ream ${commandName} has no flag ${arg}`);
    const env = Object.keys(service.environment ?? {});
    for (const variable of env) assert.ok(known.has(variable), `${name}: ${variable} is not a ream setting`);
    for (const required of [DEPLOYMENT_ENV.redisUrl, DEPLOYMENT_ENV.databaseUrl, DEPLOYMENT_ENV.bucket]) assert.ok(env.includes(required), `${name}: sets ${required}`);
  }
  const redis = (compose.services.redis?.command ?? []).join(' ');
  assert.match(redis, /--appendonly yes/);
  assert.match(redis, /--maxmemory-policy noeviction/);
});
