import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { WebhookAddressGuard } from '../../src/runtime/webhook-address.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { stubResolver } from '../support/stub-resolver.ts';

/** URL → the address and range named in the refusal. WHATWG URL normalises the odd IPv4 forms. */
const REFUSED_URLS: Array<[string, string, string]> = [
  ['http://127.0.0.1:8080/', '127.0.0.1', 'a loopback address'],
  ['http://127.9.9.9/', '127.9.9.9', 'a loopback address'],
  ['http://2130706433/', '127.0.0.1', 'a loopback address'], // decimal
  ['http://0x7f000001/', '127.0.0.1', 'a loopback address'], // hex
  ['http://0177.0.0.1/', '127.0.0.1', 'a loopback address'], // octal
  ['http://127.1/', '127.0.0.1', 'a loopback address'], // short form
  ['http://[::1]:8080/', '::1', 'a loopback address'],
  ['http://[0:0:0:0:0:0:0:1]/', '::1', 'a loopback address'],
  ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'a loopback address'], // IPv4-mapped
  ['http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe', 'a link-local address'], // mapped 169.254.169.254
  ['http://[::7f00:1]/', '::7f00:1', 'an IPv4-compatible IPv6 address'],
  ['http://0.0.0.0/', '0.0.0.0', 'the unspecified address'],
  ['http://0/', '0.0.0.0', 'the unspecified address'],
  ['http://[::]/', '::', 'the unspecified address'],
  ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'a link-local address'],
  ['http://[fe80::1]/', 'fe80::1', 'a link-local address'],
  ['http://10.0.0.5/', '10.0.0.5', 'a private address'],
  ['http://172.16.0.1/', '172.16.0.1', 'a private address'],
  ['http://172.31.255.255/', '172.31.255.255', 'a private address'],
  ['http://192.168.1.1/', '192.168.1.1', 'a private address'],
  ['http://[fc00::1]/', 'fc00::1', 'a unique-local (private) address'],
  ['http://[fd12:3456::1]/', 'fd12:3456::1', 'a unique-local (private) address'],
  ['http://100.64.0.1/', '100.64.0.1', 'a carrier-grade NAT address'],
  ['http://224.0.0.1/', '224.0.0.1', 'a multicast address'],
  ['http://[ff02::1]/', 'ff02::1', 'a multicast address'],
  ['http://255.255.255.255/', '255.255.255.255', 'the broadcast address'],
  ['http://240.0.0.1/', '240.0.0.1', 'a reserved address'],
  ['http://192.0.2.1/', '192.0.2.1', 'a reserved address'], // TEST-NET-1
  ['https://[64:ff9b::a00:5]/', '64:ff9b::a00:5', 'a NAT64 address'], // embeds 10.0.0.5
  ['https://[2002:7f00:1::]/', '2002:7f00:1::', 'a 6to4 address'], // embeds 127.0.0.1
  ['https://[2001::1]/', '2001::1', 'a Teredo address'],
];

/** Public unicast addresses: allowed (judged only: nothing here connects). */
const PUBLIC = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'];

function refusedWith(address: string, range: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ReamError);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.retryable, false);
    assert.ok(error.message.includes(`${address}, ${range}`), error.message);
    assert.match(error.message, /webhooks may not target private, loopback, link-local or other non-public addresses/);
    assert.match(error.message, /--webhook-allow-private/);
    return true;
  };
}

describe('the webhook address guard', () => {
  test('every non-public IP literal is refused, without resolving anything', async () => {
    const { lookup, asked } = stubResolver({});
    const guard = new WebhookAddressGuard({ lookup });
    for (const [url, address, range] of REFUSED_URLS) {
      assert.throws(() => guard.checkLiteral(url), refusedWith(address, range), url);
      await assert.rejects(guard.check(url), refusedWith(address, range), url);
    }
    assert.deepEqual(asked, [], 'IP literals are judged as they are');
  });

  test('a refusal names the literal form: "names …" for a literal, "resolves to …" for a host name', async () => {
    const guard = new WebhookAddressGuard({ lookup: stubResolver({ 'hooks.example.test': ['10.0.0.5'] }).lookup });
    assert.throws(() => guard.checkLiteral('http://127.0.0.1/'), /webhook\.url names 127\.0\.0\.1, a loopback address: /);
    await rejectsWithCode(guard.check('https://hooks.example.test/x'), 'validation_failed', /webhook\.url resolves to 10\.0\.0\.5, a private address: /);
  });

  test('public unicast addresses are allowed, as literals and as what a name resolves to', async () => {
    const guard = new WebhookAddressGuard({ lookup: stubResolver({ 'hooks.example.test': PUBLIC }).lookup });
    for (const address of PUBLIC) assert.equal(guard.refusal(address), undefined, address);
    for (const address of PUBLIC) guard.checkLiteral(`https://${address.includes(':') ? `[${address}]` : address}/hook`);
    await guard.check('https://hooks.example.test/hook');
  });

  test('a host name is refused if any of its addresses is, and if it does not resolve', async () => {
    const { lookup } = stubResolver({
      'mixed.example.test': ['93.184.216.34', '169.254.169.254'],
      'v6.example.test': ['2606:4700:4700::1111', '::1'],
      'localhost': ['127.0.0.1', '::1'],
      'empty.example.test': [],
    });
    const guard = new WebhookAddressGuard({ lookup });
    await rejectsWithCode(guard.check('http://mixed.example.test/'), 'validation_failed', /169\.254\.169\.254, a link-local address/);
    await rejectsWithCode(guard.check('http://v6.example.test/'), 'validation_failed', /::1, a loopback address/);
    await rejectsWithCode(guard.check('http://localhost:8080/'), 'validation_failed', /127\.0\.0\.1, a loopback address/);
    await rejectsWithCode(guard.check('http://empty.example.test/'), 'validation_failed', /has no address/);
    await rejectsWithCode(guard.check('http://nowhere.example.test/'), 'validation_failed', /host nowhere\.example\.test does not resolve \(ENOTFOUND\)/);
    guard.checkLiteral('http://mixed.example.test/'); // a name is left to check(): checkLiteral does not resolve
  });

  test('a CIDR allow-list lifts the rule for its ranges only (IPv4-mapped forms judged as their IPv4)', async () => {
    const loopback = new WebhookAddressGuard({ allowPrivate: ['127.0.0.0/8'], lookup: stubResolver({ 'hooks.internal.test': ['127.0.0.1'] }).lookup });
    for (const address of ['127.0.0.1', '127.255.0.3', '::ffff:127.0.0.1']) assert.equal(loopback.refusal(address), undefined, address);
    for (const address of ['::1', '10.0.0.5', '169.254.169.254', '0.0.0.0']) assert.ok(loopback.refusal(address), address);
    await loopback.check('http://hooks.internal.test:9000/');

    const internal = new WebhookAddressGuard({ allowPrivate: ['10.1.0.0/16', 'fd00::/8', '::1/128'] });
    for (const address of ['10.1.2.3', 'fd00::5', '::1']) assert.equal(internal.refusal(address), undefined, address);
    for (const address of ['10.2.0.1', 'fc00::1', '127.0.0.1', '192.168.0.1']) assert.ok(internal.refusal(address), address);
  });

  test('allowPrivate: true allows every address; false and [] allow none but public ones', () => {
    const all = new WebhookAddressGuard({ allowPrivate: true });
    for (const [, address] of REFUSED_URLS) assert.equal(all.refusal(address), undefined, address);
    for (const allowPrivate of [false, []]) {
      const none = new WebhookAddressGuard({ allowPrivate });
      for (const [, address] of REFUSED_URLS) assert.ok(none.refusal(address), address);
    }
  });

  test('an allow-list entry that is not a CIDR is refused when the guard is made', () => {
    for (const entry of ['10.0.0.0/33', 'banana', '10.0.0.1', 'fd00::/129', '']) {
      assert.throws(() => new WebhookAddressGuard({ allowPrivate: [entry] }), (error: unknown) => {
        assert.ok(error instanceof ReamError && error.code === 'validation_failed');
        assert.ok(error.message.includes(`"${entry}"`), error.message);
        return true;
      });
    }
  });

  test('the connect-time lookup answers only checked addresses, in both of the forms net asks for', async () => {
    const { lookup } = stubResolver({ 'good.example.test': ['93.184.216.34', '2606:4700:4700::1111'], 'bad.example.test': ['93.184.216.34', '10.0.0.5'] });
    const connectLookup = new WebhookAddressGuard({ lookup }).connectLookup();
    const ask = (hostname: string, options: { all?: boolean; family?: number }): Promise<unknown[]> =>
      new Promise((resolve) => connectLookup(hostname, options, (...answer: unknown[]) => resolve(answer)));

    const [error, addresses] = await ask('good.example.test', { all: true });
    assert.equal(error, null);
    assert.deepEqual(addresses, [{ address: '93.184.216.34', family: 4 }, { address: '2606:4700:4700::1111', family: 6 }]);
    assert.deepEqual(await ask('good.example.test', { family: 6 }), [null, '2606:4700:4700::1111', 6]);
    for (const options of [{ all: true }, {}]) {
      const [refused] = await ask('bad.example.test', options);
      assert.ok(refused instanceof ReamError && refused.code === 'validation_failed' && !refused.retryable, String(refused));
      assert.match(refused.message, /resolves to 10\.0\.0\.5, a private address/);
    }
    const [missing] = await ask('nowhere.example.test', {});
    assert.equal((missing as NodeJS.ErrnoException).code, 'ENOTFOUND');
  });
});
