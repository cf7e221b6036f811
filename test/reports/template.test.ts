import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { compileTemplate } from '../../src/reports/template/compile.ts';

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

  it('stops huge loops and huge ranges with a coded render error', async () => {
    const started = Date.now();
    const nested = await thrown(() => compileTemplate('{% for i in (1..5000) %}{% for j in (1..5000) %}x{% endfor %}{% endfor %}').render({}));
    assert.equal(nested.code, 'template_render_failed');
    assert.match(nested.message, /limit/);
    assert.ok(Date.now() - started < 10_000, 'the render limit ended the loop');
    const range = await thrown(() => compileTemplate('{% for i in (1..100000000) %}{{ i }}{% endfor %}').render({}));
    assert.equal(range.code, 'template_render_failed');
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
