import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { addRetentionFlags, retentionFromFlags, type RetentionFlags } from '../../src/cli/retention-flags.ts';

function parse(...args: string[]): RetentionFlags {
  const command = addRetentionFlags(new Command('serve')).exitOverride().configureOutput({ writeErr: () => undefined });
  command.parse(args, { from: 'user' });
  return command.opts<RetentionFlags>();
}

void test('no retention flag keeps everything (unfinished uploads: the 24 h default)', () => {
  assert.equal(retentionFromFlags(parse()), undefined);
});

void test('the flags of jobs, documents and unfinished uploads, default and per tenant, become one retention', () => {
  const flags = parse(
    '--retention-days', '30', '--retention-tenant', 'acme=7', '--retention-tenant', 'legal=forever',
    '--retention-documents-days', '90', '--retention-documents-tenant', 'acme=1.5',
    '--retention-uploads-hours', '6', '--retention-uploads-tenant', 'acme=2', '--retention-uploads-tenant', 'a=b=0.5',
  );
  assert.deepEqual(retentionFromFlags(flags), {
    jobsDays: 30, tenants: { acme: 7, legal: null },
    documentsDays: 90, documentTenants: { acme: 1.5 },
    uploadsHours: 6, uploadTenants: { acme: 2, 'a=b': 0.5 },
  });
  assert.deepEqual(retentionFromFlags(parse('--retention-uploads-tenant', 'acme=1')), { uploadTenants: { acme: 1 } }, 'one tenant alone');
});

void test('an upload lifetime is hours above 0, never "forever" (an unfinished upload always expires)', () => {
  for (const args of [['--retention-uploads-hours', '0'], ['--retention-uploads-hours', 'x'], ['--retention-uploads-tenant', 'acme=forever'], ['--retention-uploads-tenant', 'acme='], ['--retention-uploads-tenant', '=3']]) {
    assert.throws(() => parse(...args), (error: unknown) => error instanceof CommanderError && /expected/.test(error.message), args.join(' '));
  }
});
