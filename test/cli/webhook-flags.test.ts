import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { addWebhookFlags, webhookAddressOptions, type WebhookFlags } from '../../src/cli/webhook-flags.ts';

function parse(...args: string[]): WebhookFlags {
  const command = addWebhookFlags(new Command('serve')).exitOverride().configureOutput({ writeErr: () => undefined });
  command.parse(args, { from: 'user' });
  return command.opts<WebhookFlags>();
}

void test('--webhook-allow-private and --webhook-allow-cidr become webhooks.allowPrivate; none keeps the default', () => {
  assert.deepEqual(webhookAddressOptions(parse()), {});
  assert.deepEqual(webhookAddressOptions(parse('--webhook-allow-private')), { allowPrivate: true });
  assert.deepEqual(webhookAddressOptions(parse('--webhook-allow-cidr', '10.0.0.0/8, 127.0.0.0/8', '--webhook-allow-cidr', 'fd00::/8')), {
    allowPrivate: ['10.0.0.0/8', '127.0.0.0/8', 'fd00::/8'],
  });
  assert.deepEqual(webhookAddressOptions(parse('--webhook-allow-cidr', '10.0.0.0/8', '--webhook-allow-private')), { allowPrivate: true });
});

void test('--webhook-allow-cidr refuses what is not a CIDR', () => {
  for (const value of ['10.0.0.1', '10.0.0.0/33', 'banana', ',']) {
    assert.throws(() => parse('--webhook-allow-cidr', value), (error: unknown) => error instanceof CommanderError && /is not a CIDR/.test(error.message), value);
  }
});
