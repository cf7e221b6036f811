import type { RuleSpec } from './spec.ts';

/** A validated rule, ready to run: one global regex and how to read the value from a match. */
export interface CompiledRule {
  name: string;
  regex: RegExp;
  /** Group number or name; 0 is the whole match. */
  group: number | string;
  all: boolean;
}

/** Characters that have a meaning in a `u`-mode pattern. `-` is left alone: `\-` is a syntax error there. */
const SYNTAX_CHARACTERS = /[\\^$.*+?()[\]{}|/]/g;

/** Letters, digits and `_` in any script: what counts as "inside a word" for keywords. */
const WORD = String.raw`[\p{L}\p{N}_]`;

/** Expects a spec that passed `parseRuleSpecs`. */
export function compileRule(spec: RuleSpec): CompiledRule {
  if (spec.pattern !== undefined) {
    const own = (spec.flags ?? '').replace('g', '');
    const flags = `${own}${spec.caseSensitive === false && !own.includes('i') ? 'i' : ''}g`;
    const regex = new RegExp(spec.pattern, flags);
    return { name: spec.name, regex, group: spec.group ?? defaultGroup(spec.pattern, flags), all: spec.all ?? false };
  }
  // Longest first: an alternation takes the first alternative that matches, so "net total" must
  // be tried before "net".
  const alternatives = [...(spec.keywords ?? [])]
    .map((keyword) => keyword.trim())
    .sort((a, b) => b.length - a.length)
    .map((keyword) => keyword.split(/\s+/).map((word) => word.replace(SYNTAX_CHARACTERS, '\\$&')).join(String.raw`\s+`));
  const source = `(?<!${WORD})(?:${alternatives.join('|')})(?!${WORD})`;
  const regex = new RegExp(source, spec.caseSensitive === true ? 'gu' : 'giu');
  return { name: spec.name, regex, group: 0, all: spec.all ?? false };
}

/** Group 1 when the pattern captures anything, otherwise the whole match. */
function defaultGroup(pattern: string, flags: string): number {
  const groups = new RegExp(`(?:${pattern})|`, flags.replace('g', '')).exec('')?.length ?? 1;
  return groups > 1 ? 1 : 0;
}

/** The rule's value in a match: trimmed, or undefined when its group did not take part or is blank. */
export function valueOf(rule: CompiledRule, match: RegExpExecArray | RegExpMatchArray): string | undefined {
  const raw = typeof rule.group === 'number' ? match[rule.group] : match.groups?.[rule.group];
  const value = raw?.trim();
  return value === '' ? undefined : value;
}
