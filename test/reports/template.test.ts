import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { compileTemplate } from '../../src/reports/template/compile.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../../src/reports/template/sandbox.ts';

/** The ReamError `fn` throws (sync or async), for its code and details. */
async function thrown(fn: () => unknown): Promise<ReamError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof ReamError, `not a ReamError: ${String(error)}`);
    return error;
  }
  assert.fail('nothing was thrown');
}

describe('report templates', () => {
  it('escapes every output unless the template says raw', async () => {
    const html = await compileTemplate('<p>{{ note }}</p><i>{{ note | raw }}</i>').render({ note: '<script>alert("x")</script>' });
    assert.equal(html, '<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p><i><script>alert("x")</script></i>');
  });

  it('refuses the tags that read files at parse, with line and column', async () => {
    for (const source of ["a\n  {% include '/etc/passwd' %}", "a\n  {% render 'header' %}", "a\n  {% layout 'base' %}"]) {
      const error = await thrown(() => compileTemplate(source));
      assert.equal(error.code, 'template_invalid');
      assert.deepEqual(error.details, { line: 2, column: 3 });
      assert.match(error.message, /not allowed/);
    }
  });

  it('says where a template does not parse, and refuses unknown filters', async () => {
    const unclosed = await thrown(() => compileTemplate('Dear {{ name },\n'));
    assert.equal(unclosed.code, 'template_invalid');
    assert.deepEqual(unclosed.details, { line: 1, column: 6 });
    assert.equal((await thrown(() => compileTemplate('{{ name | shell }}'))).code, 'template_invalid');
    assert.equal((await thrown(() => compileTemplate('   '))).code, 'template_invalid');
    const long = await thrown(() => compileTemplate(`<p>${'x'.repeat(300 * 1024)}</p>`));
    assert.equal(long.code, 'template_invalid');
    assert.match(long.message, /the template is 307207 characters long; at most 262144 are allowed/);
  });

  it('stops huge loops with timeout and huge ranges with resource_limit, neither retried', async () => {
    const started = Date.now();
    const nested = await thrown(() => compileTemplate('{% for i in (1..5000) %}{% for j in (1..5000) %}x{% endfor %}{% endfor %}').render({}));
    assert.equal(nested.code, 'timeout');
    assert.equal(nested.retryable, false);
    assert.match(nested.message, /took longer than 2000 ms/);
    assert.ok(Date.now() - started < 10_000, 'the render limit ended the loop');
    const range = await thrown(() => compileTemplate('{% for i in (1..100000000) %}{{ i }}{% endfor %}').render({}));
    assert.equal(range.code, 'resource_limit');
    assert.equal(range.retryable, false);
  });

  it('renders off the event loop: a filter that runs away is stopped within the limits, and the next render works', async () => {
    // Rendered on the main thread, `sort` of three million items held it for a second or more
    // (Liquid checks its time only between tags): no timer ran meanwhile. On a thread of its
    // own, the main thread's timers keep running (late only as much as a busy machine makes them).
    let ticks = 0;
    let maxGapMs = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const now = performance.now();
      ticks++;
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }, 10);
    try {
      const started = performance.now();
      const sorted = await thrown(() => compileTemplate('{% assign a = (1..3000000) %}{{ a | sort | reverse | size }}').render({}));
      const tookMs = performance.now() - started;
      assert.ok(sorted.code === 'resource_limit' || sorted.code === 'timeout', `${sorted.code}: ${sorted.message}`);
      assert.equal(sorted.retryable, false);
      assert.ok(tookMs < 4_000, `stopped in ${Math.round(tookMs)} ms`);
      assert.ok(ticks >= tookMs / 100, `the main thread's timers ran ${ticks} times in ${Math.round(tookMs)} ms`);
      assert.ok(maxGapMs < 1_000, `the main thread's timers were at most ${Math.round(maxGapMs)} ms apart`);
      // The next render gets a fresh thread.
      assert.equal(await compileTemplate('<p>{{ id }}</p>').render({ id: 3 }), '<p>3</p>');
      // Liquid counts a range as one unit per item: this one is refused before it is made.
      const before = performance.now();
      const huge = await thrown(() => compileTemplate('{% assign a = (1..30000000) %}{{ a | sort | size }}').render({}));
      assert.equal(huge.code, 'resource_limit');
      assert.match(huge.message, /budget of 8388608 characters and array items/);
      assert.ok(performance.now() - before < 2_000, `refused in ${Math.round(performance.now() - before)} ms`);
    } finally {
      clearInterval(probe);
    }
    assert.equal(await compileTemplate('<p>{{ id }}</p>').render({ id: 4 }), '<p>4</p>');
  });

  it('refuses a report past its output cap, which the options set like the other limits', async () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, maxOutputBytes: 1_000 };
    const big = await thrown(() => compileTemplate('{% for i in (1..200) %}<p>{{ i }}</p>{% endfor %}', 'template', { limits }).render({}));
    assert.equal(big.code, 'resource_limit');
    assert.equal(big.retryable, false);
    assert.deepEqual(big.details, { limit: 'output', bytes: 1_892, maxOutputBytes: 1_000 });
    assert.equal((await compileTemplate('{% for i in (1..10) %}<p>{{ i }}</p>{% endfor %}', 'template', { limits }).render({})).length, 81);
  });

  it('prints a date-only value as its own day in every time zone; date-times convert', async () => {
    const source = '{{ day | date: "%d %B %Y" }}|{{ day | date: "%d %B %Y %H:%M", "Asia/Tokyo" }}|{{ day | date_to_long_string }}|{{ day | date_to_xmlschema }}|{{ at | date: "%d %B %Y %H:%M" }}';
    const data = { day: '2024-07-01', at: '2024-07-01T03:00:00Z' };
    const west = await compileTemplate(source, 'template', { timezone: 'America/Los_Angeles' }).render(data);
    assert.equal(west, '01 July 2024|01 July 2024 00:00|01 July 2024|2024-07-01T00:00:00+00:00|30 June 2024 20:00');
    const east = await compileTemplate(source, 'template', { timezone: 'Pacific/Kiritimati' }).render(data);
    assert.equal(east, '01 July 2024|01 July 2024 00:00|01 July 2024|2024-07-01T00:00:00+00:00|01 July 2024 17:00');
  });

  it('reads own properties only', async () => {
    const html = await compileTemplate('[{{ row.constructor }}][{{ row.__proto__ }}][{{ row.toString }}][{{ row.a }}]').render({ row: { a: 1 } });
    assert.equal(html, '[][][][1]');
  });

  it('formats money, numbers and dates in the template locale, not the host', async () => {
    const source = '{{ total | money: "EUR" }}|{{ qty | number: 1 }}|{{ day | date: "%d %B %Y" }}|{{ empty | money: "USD" }}';
    const data = { total: '1234.5', qty: 1000, day: '2026-03-04T23:30:00Z', empty: null };
    assert.equal(await compileTemplate(source).render(data), '€1,234.50|1,000.0|04 March 2026|');
    assert.equal(await compileTemplate(source, 'template', { locale: 'de-DE', timezone: 'Europe/Berlin' }).render(data), '1.234,50\u00a0€|1.000,0|05 März 2026|');
    const word = await thrown(() => compileTemplate('{{ v | money: "EUR" }}').render({ v: 'twelve' }));
    assert.equal(word.code, 'template_render_failed');
    assert.match(word.message, /"twelve" is not a number/);
  });
});
