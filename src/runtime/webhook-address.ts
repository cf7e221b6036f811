import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ReamError } from '../errors.ts';

/**
 * Resolves a host name to every address it has (as `dns.lookup(host, { all: true })`). Injectable
 * so tests can answer a hostile address without any network; the same one is used at submit
 * (`purpose` 'check') and at delivery, for the socket's connect ('connect').
 */
export type WebhookLookup = (hostname: string, purpose: 'check' | 'connect') => Promise<LookupAddress[]>;

export interface WebhookAddressOptions {
  /**
   * Webhooks may target only public unicast addresses by default. `true` lifts the rule for
   * every address (an internal deployment whose receivers are on private networks); a list of
   * CIDRs (`['10.1.0.0/16', '127.0.0.0/8']`) lifts it for those ranges only.
   */
  allowPrivate?: boolean | readonly string[];
  /** How host names are resolved, at submit and at delivery. Default `dns.lookup`. */
  lookup?: WebhookLookup;
}

const defaultLookup: WebhookLookup = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * IPv4-compatible IPv6 (`::a.b.c.d`, deprecated by RFC 4291): ipaddr.js calls it unicast, but it
 * embeds an IPv4 address and is no public destination.
 */
const EXTRA_REFUSED: ReadonlyArray<[string, [Address, number]]> = [['ipv4Compatible', ipaddr.parseCIDR('::/96')]];

/** How a refusal names the range (ipaddr.js's range names, spelt out). */
const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local (private) address',
  carrierGradeNat: 'a carrier-grade NAT address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
  rfc6052: 'a NAT64 address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
  ipv4Compatible: 'an IPv4-compatible IPv6 address',
};

/** The range an address is in: `unicast` for a public one (IPv4-mapped IPv6 is judged as its IPv4). */
export function addressRange(address: Address): string {
  const processed = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
  const range = processed.range();
  if (range !== 'unicast') return range; // ::1 and :: are in ::/96 too, and named better by ipaddr.js
  return EXTRA_REFUSED.find(([, cidr]) => processed.kind() === cidr[0].kind() && processed.match(cidr))?.[0] ?? range;
}

function parseAllowList(allow: readonly string[]): Array<[Address, number]> {
  return allow.map((cidr) => {
    if (!ipaddr.isValidCIDR(cidr)) {
      throw ReamError.nonRetryable('validation_failed', `webhook allow-list entry "${cidr}" must be a CIDR such as 10.0.0.0/8 or fd00::/8`);
    }
    return ipaddr.parseCIDR(cidr);
  });
}

/**
 * Where webhooks may be sent: public unicast addresses only, unless allowed. Checked at submit
 * (the URL's host, resolved) and again at delivery on the very address connected to, so a name
 * that resolves elsewhere by then (DNS rebinding) is refused.
 */
export class WebhookAddressGuard {
  readonly #allowAll: boolean;
  readonly #allowed: Array<[Address, number]>;
  readonly #lookup: WebhookLookup;

  /** Throws `validation_failed` for an allow-list entry that is not a CIDR. */
  constructor(options: WebhookAddressOptions = {}) {
    const allow = options.allowPrivate ?? false;
    this.#allowAll = allow === true;
    this.#allowed = Array.isArray(allow) ? parseAllowList(allow) : [];
    this.#lookup = options.lookup ?? defaultLookup;
  }

  /** Why `address` may not be a webhook's destination, or `undefined` if it may. */
  refusal(address: string): string | undefined {
    if (this.#allowAll) return undefined;
    if (!ipaddr.isValid(address)) return `${address}, not an IP address`;
    const parsed = ipaddr.parse(address);
    const candidates = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? [parsed, (parsed as ipaddr.IPv6).toIPv4Address()] : [parsed];
    if (this.#allowed.some(([net, bits]) => candidates.some((a) => a.kind() === net.kind() && a.match(net, bits)))) return undefined;
    const range = addressRange(parsed);
    if (range === 'unicast') return undefined;
    return `${address}, ${RANGE_WORDS[range] ?? `an address of the special range "${range}"`}`;
  }

  /**
   * Throws `validation_failed` unless the URL's host is allowed: an IP literal is judged as it is
   * (WHATWG URL has normalised decimal, hex and octal IPv4 forms already), a name by every
   * address it resolves to. A name that does not resolve is refused too.
   */
  async check(url: string): Promise<void> {
    const hostname = hostOf(url);
    if (isIP(hostname) !== 0) return this.checkLiteral(url);
    let addresses: LookupAddress[];
    try {
      addresses = await this.#lookup(hostname, 'check');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
      throw ReamError.nonRetryable('validation_failed', `webhook.url: host ${hostname} does not resolve (${code})`, { cause: error });
    }
    if (addresses.length === 0) throw ReamError.nonRetryable('validation_failed', `webhook.url: host ${hostname} has no address`);
    for (const { address } of addresses) this.#refuse('resolves to', address);
  }

  /** {@link check} for an IP literal host, without resolving anything; a host name passes. */
  checkLiteral(url: string): void {
    const hostname = hostOf(url);
    if (isIP(hostname) !== 0) this.#refuse('names', hostname);
  }

  /**
   * A `lookup` for `http.request` that resolves with this guard's resolver and refuses the
   * connection (with a `validation_failed` ReamError) if any address is not allowed, so the
   * socket goes only to an address that was checked. Node skips `lookup` for IP literals: check
   * those with {@link checkLiteral} first.
   */
  connectLookup(): LookupFunction {
    return (hostname, options, callback) => {
      this.#lookup(hostname, 'connect')
        .then((addresses) => {
          const family = options.family === 4 || options.family === 6 ? options.family : 0;
          const usable = addresses.filter((a) => family === 0 || a.family === family);
          for (const { address } of usable) this.#refuse('resolves to', address);
          const [first] = usable;
          if (first === undefined) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
          if (options.all === true) callback(null, usable);
          else callback(null, first.address, first.family);
        })
        .catch((error: unknown) => callback(error as NodeJS.ErrnoException, '', 0));
    };
  }

  #refuse(verb: string, address: string): void {
    const why = this.refusal(address);
    if (why === undefined) return;
    throw ReamError.nonRetryable(
      'validation_failed',
      `webhook.url ${verb} ${why}: webhooks may not target private, loopback, link-local or other non-public addresses (see the webhooks.allowPrivate option, or --webhook-allow-private and --webhook-allow-cidr)`,
      { details: { address } },
    );
  }
}

/** The URL's host as `net` sees it: IPv6 literals without their brackets. */
function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}
