import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRuleSpecs, rulesAnalyzer } from '../../src/analyzers/rules/index.ts';
import { hasNestedUnboundedQuantifier } from '../../src/analyzers/rules/regex-safety.ts';
import { ReamError } from '../../src/errors.ts';

function refuses(json: unknown, pattern: RegExp): void {
  assert.throws(() => parseRuleSpecs(json), (error: unknown) => {
    assert.ok(error instanceof ReamError, String(error));
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.retryable, false);
    assert.match(error.message, pattern);
    return true;
  });
}

void test('a valid rules file comes back as clean rule specs', () => {
  const json: unknown = JSON.parse('[{"name":"total","pattern":"Total: (\\\\S+)","flags":"i"},{"name":"cur","keywords":["EUR"],"all":true}]');
  assert.deepEqual(parseRuleSpecs(json), [
    { name: 'total', pattern: String.raw`Total: (\S+)`, flags: 'i' },
    { name: 'cur', keywords: ['EUR'], all: true },
  ]);
});

void test('the file must be a non-empty array', () => {
  refuses({ rules: [] }, /JSON array/);
  refuses([], /no rules/);
  refuses(null, /JSON array/);
});

void test('exactly one of pattern and keywords', () => {
  refuses([{ name: 'a' }], /rule 1 \("a"\): give exactly one of "pattern" and "keywords"/);
  refuses([{ name: 'a', pattern: 'x', keywords: ['x'] }], /exactly one/);
});

void test('bad regexes, flags and groups are refused with the reason', () => {
  refuses([{ name: 'a', pattern: '(unclosed' }], /not a valid regular expression/);
  refuses([{ name: 'a', pattern: 'x', flags: 'y' }], /sticky/);
  refuses([{ name: 'a', pattern: 'x', flags: 'ii' }], /distinct letters/);
  refuses([{ name: 'a', pattern: '(x)', group: 2 }], /group" 2 does not exist: the pattern has 1 capture group/);
  refuses([{ name: 'a', pattern: '(?<v>x)', group: 'w' }], /not a named group of the pattern \(it has: v\)/);
  refuses([{ name: 'a', pattern: 'x', flags: 'i', caseSensitive: true }], /contradicts/);
  refuses([{ name: 'a', keywords: ['x'], group: 1 }], /"group" applies to "pattern" only/);
  refuses([{ name: 'a', pattern: 'x'.repeat(1_001) }], /at most 1000/);
});

void test('names must be usable field keys and unique', () => {
  refuses([{ name: 'a', pattern: 'x' }, { name: 'a', keywords: ['y'] }], /rule 2 \("a"\): the name "a" is used by an earlier rule/);
  refuses([{ name: '', pattern: 'x' }], /rule 1: "name"/);
  refuses([{ name: 'has space', pattern: 'x' }], /"name" must be/);
  refuses([{ name: '__proto__', pattern: 'x' }], /__proto__/);
});

void test('typos and wrong types are caught, and every problem is listed at once', () => {
  assert.throws(() => parseRuleSpecs([{ name: 'a', patern: 'x' }, { name: 'b', keywords: [''], all: 'yes' }, 'nope']), (error: unknown) => {
    assert.ok(error instanceof ReamError);
    const problems = error.details?.problems as string[];
    assert.deepEqual(problems, [
      'rule 1 ("a"): unknown property "patern" (known: name, pattern, flags, group, keywords, caseSensitive, all)',
      'rule 1 ("a"): give exactly one of "pattern" and "keywords"',
      'rule 2 ("b"): "all" must be true or false',
      'rule 2 ("b"): keyword 1 must be a non-empty string',
      'rule 3: must be an object with a "name" and a "pattern" or "keywords"',
    ]);
    return true;
  });
});

void test('catastrophic patterns are refused before they can freeze a worker', () => {
  for (const pattern of [String.raw`(a+)+$`, String.raw`(\w+\s?)*$`, String.raw`((ab)*c*)+`, String.raw`(?:x*y*)+z`, String.raw`(?<n>\d+)*`, String.raw`(a{2,})+`, String.raw`^(a+){1,50}$`, String.raw`^(.*a){12}$`, String.raw`(\s\w+){0,5}`, String.raw`(?:x{3,}y){2,9}?`]) {
    refuses([{ name: 'a', pattern }], /nests unbounded quantifiers/);
  }
  assert.throws(() => rulesAnalyzer([{ name: 'a', pattern: '(a+)+$' }]), /nests unbounded quantifiers/);
});

void test('the nested-quantifier check lets ordinary patterns through', () => {
  for (const pattern of [
    String.raw`Invoice No\. (\S+)`,
    String.raw`(?:\d{3},)+\d{3}`,
    String.raw`(\d+)\.(\d+)`,
    String.raw`[(+*)]+`,
    String.raw`\p{Lu}+(?:\s\p{Lu}{1,40}){0,5}`,
    String.raw`(a+)?b`,
    String.raw`(a+){0,1}b`,
    String.raw`(\d+){1}x`,
    String.raw`(a|b)+`,
    String.raw`\(x+\)+`,
    String.raw`(?<total>[\d.,]+) EUR`,
  ]) {
    assert.equal(hasNestedUnboundedQuantifier(pattern), false, pattern);
  }
  assert.equal(hasNestedUnboundedQuantifier(String.raw`([[a-z]--[aeiou]]+)+`, true), true, 'v-mode nested classes');
});
