import type { WebhookLookup } from '../../src/runtime/webhook-address.ts';

/**
 * Answers names from `answers`, records every question. An entry is the addresses, or a pair of
 * answers: one for the submit check, one for the delivery's connect (a name re-pointed between
 * them). Where a socket may follow, give public addresses only to the check: then, if a check
 * went missing, nothing could be sent to them. No network is used.
 */
export function stubResolver(answers: Record<string, string[] | { check: string[]; connect: string[] }>): { lookup: WebhookLookup; asked: string[] } {
  const asked: string[] = [];
  const lookup: WebhookLookup = (hostname, purpose) => {
    asked.push(`${purpose} ${hostname}`);
    const entry = answers[hostname];
    const addresses = Array.isArray(entry) ? entry : entry?.[purpose];
    if (addresses === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return { lookup, asked };
}
