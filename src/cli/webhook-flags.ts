import { InvalidArgumentError, type Command } from 'commander';
import ipaddr from 'ipaddr.js';
import type { WebhookAddressOptions } from '../runtime/create-ream.ts';

export interface WebhookFlags {
  webhookAllowPrivate?: boolean;
  webhookAllowCidr?: string[];
}

/** `--webhook-allow-cidr 10.0.0.0/8,fd00::/8` (repeatable): every entry must be a CIDR. */
function cidrList(value: string, previous: string[] = []): string[] {
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const bad = entries.find((entry) => !ipaddr.isValidCIDR(entry));
  if (bad !== undefined || entries.length === 0) throw new InvalidArgumentError(`"${bad ?? value}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
  return [...previous, ...entries];
}

/**
 * Where webhooks may go. Shared by `serve` (checks at submit, and delivers when it works) and
 * `worker` (delivers): give every process of a deployment the same flags.
 */
export function addWebhookFlags(command: Command): Command {
  return command
    .option('--webhook-allow-private', 'let webhooks target any address, private and loopback included (default: public unicast addresses only)')
    .option('--webhook-allow-cidr <cidr,...>', 'let webhooks target addresses in these ranges, e.g. 10.0.0.0/8,127.0.0.0/8 (repeatable)', cidrList);
}

/** The `allowPrivate` the flags ask for, if any (`--webhook-allow-private` wins over a CIDR list). */
export function webhookAddressOptions(flags: WebhookFlags): Pick<WebhookAddressOptions, 'allowPrivate'> {
  if (flags.webhookAllowPrivate === true) return { allowPrivate: true };
  return flags.webhookAllowCidr === undefined ? {} : { allowPrivate: flags.webhookAllowCidr };
}
