// The nesting count that keeps pages htmlparser2 would parse for minutes away from it: one pass
// however the tags are left unclosed, and a count that neither quoted `<`, `<div/>` nor SVG's
// `<path/>` can fool.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { checkNesting, MAX_NESTING } from '../../src/formats/html/html-nesting.ts';
import { htmlText } from '../../src/formats/html/html-text.ts';

const tooDeep = (html: string): boolean => {
  try {
    checkNesting(html);
    return false;
  } catch (error) {
    assert.ok(error instanceof ReamError && error.code === 'resource_limit', String(error));
    return true;
  }
};

const deep = MAX_NESTING + 1;

void describe('HTML nesting check', () => {
  void test('200,000 tags the file never closes are checked in one pass, and the page is read', () => {
    // ~600 KB; a search that ran to the end of the file from each `<` took minutes.
    const html = `<html><body>${'<a '.repeat(200_000)}`;
    const started = performance.now();
    assert.equal(tooDeep(html), false);
    assert.equal(htmlText(html, false), '', 'one unclosed tag: no text');
    const ms = performance.now() - started;
    assert.ok(ms < 5_000, `${Math.round(ms)} ms`);
    for (const unclosed of ['<div title="', '<!-- ', '<script>']) {
      const cut = `${'<div>'.repeat(100)}${unclosed}${'<div '.repeat(200_000)}`;
      const begun = performance.now();
      assert.equal(tooDeep(cut), false, unclosed);
      assert.ok(performance.now() - begun < 5_000, unclosed);
    }
  });

  void test('elements htmlparser2 nests are counted, however they are written', () => {
    assert.equal(tooDeep('<div>'.repeat(deep)), true);
    assert.equal(tooDeep('<DIV class="x">'.repeat(deep)), true, 'upper case, attributes');
    assert.equal(tooDeep('<div title="a<b>c">'.repeat(deep)), true, 'a quoted value holding < and >');
    assert.equal(tooDeep('<div/>'.repeat(deep)), true, 'HTML opens a <div> written <div/>');
    assert.equal(tooDeep(`<svg><foreignObject>${'<div/>'.repeat(deep)}`), true, 'HTML again inside <foreignObject>');
    assert.equal(tooDeep(`<math><mi/>${'<div/>'.repeat(deep)}`), true, 'a self-closed <mi/> brings HTML back too');
  });

  void test('what htmlparser2 does not nest is not counted', () => {
    assert.equal(tooDeep(`<div>${'<p>para <li>item <br/>'.repeat(2_000)}</div>`), false, 'optional end tags, void elements');
    assert.equal(tooDeep(`<svg>${'<g><path d="M0 0"/></g><path/>'.repeat(2_000)}</svg>`), false, 'SVG closes with />');
    assert.equal(tooDeep(`<!-- ${'<div>'.repeat(deep)} -->`), false, 'a comment');
    assert.equal(tooDeep(`${'<div><script>if (a<b && c>d) x("</div>")</SCRIPT></div>'.repeat(deep)}`), false, 'a script\'s text');
    assert.equal(tooDeep(`${'<div><style>a<b>{}</style></div>'.repeat(deep)}`), false, 'a style sheet\'s text');
    assert.equal(tooDeep(`${'<div><textarea><span></textarea></div>'.repeat(deep)}`), false, 'a text area\'s text');
  });
});
