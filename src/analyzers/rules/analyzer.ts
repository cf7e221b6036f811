import { ReamError } from '../../errors.ts';
import type { PageText } from '../../formats/types.ts';
import { asJson } from '../../json.ts';
import { ownValue, setOwn } from '../../own-keys.ts';
import type { AnalyzeContext, Analyzer, FieldMatch, Fields } from '../port.ts';
import { compileRule, valueOf, type CompiledRule } from './compile.ts';
import { parseRuleSpecs, RULE_LIMITS, type RuleSpec } from './spec.ts';

/**
 * Finds named fields in page text with regular expressions or keywords. Every rule's name is a
 * key of the result, with `[]` when nothing was found, so consumers see the same shape for every
 * document. Without `all`, a rule reports its first match in page order — per chunk in
 * `analyze`, then per document in `reduce`. Specs are validated here as by `parseRuleSpecs`
 * (throws `validation_failed`), so a bad rule fails before any document is read.
 */
export function rulesAnalyzer(specs: readonly RuleSpec[]): Analyzer {
  const valid = parseRuleSpecs(specs);
  const rules = valid.map(compileRule);
  return {
    name: 'rules',
    config: asJson(valid),
    analyze: (pages, context) => new Promise<Fields>((resolve) => resolve(findFields(rules, pages, context))),
    analyzeEachPage: (pages, context) => findFieldsPerPage(rules, pages, context),
    reduce: (merged) => firstMatchesOnly(rules, merged),
  };
}

function findFields(rules: readonly CompiledRule[], pages: readonly PageText[], context: AnalyzeContext): Fields {
  const inOrder = [...pages].sort((a, b) => a.page - b.page);
  const fields: Fields = {};
  for (const rule of rules) {
    // An own key even for a rule named `__proto__`, which an assignment would make the prototype (own-keys.ts).
    const found = setOwn<FieldMatch[], FieldMatch[]>(fields, rule.name, []);
    for (const { page, text } of inOrder) {
      if (context.signal.aborted) throw new ReamError('cancelled', 'rule analysis cancelled', { cause: context.signal.reason });
      collect(rule, page, text, found);
      if (!rule.all && found.length > 0) break;
    }
  }
  return fields;
}

/** Rules run on rows one at a time, as they are read; `fields` gives what {@link findFieldsPerPage} gives for them all. */
export interface RowRules {
  /** Runs the rules on a row; answers each rule's matches in that row, in the rules' order. */
  add(page: PageText): ReadonlyArray<readonly FieldMatch[]>;
  fields(): Fields;
}

/**
 * The rules of `specs` run on each row alone, as `perPage(rulesAnalyzer(specs))` runs them: for a
 * thread that reads rows and runs their rules as it reads them (a rules-only `rows` job, see
 * `Pipeline.rowRules`), so no row is kept for the rules. Specs are validated as by {@link rulesAnalyzer}.
 */
export function rowRules(specs: readonly RuleSpec[]): RowRules {
  const rules = parseRuleSpecs(specs).map(compileRule);
  const found: FieldMatch[][] = rules.map(() => []);
  let added = false;
  return {
    add({ page, text }) {
      added = true;
      return rules.map((rule, i) => {
        const all = found[i] as FieldMatch[];
        const before = all.length;
        collect(rule, page, text, all);
        return all.length === before ? NO_MATCHES : all.slice(before);
      });
    },
    // Every rule's name once a row was read; none before, as `findFieldsPerPage` of no pages.
    fields: () => (added ? Object.fromEntries(rules.map((rule, i) => [rule.name, found[i] as FieldMatch[]])) : {}),
  };
}

/** A row's matches of a rule that found nothing there (shared: most rows, most rules). */
const NO_MATCHES: readonly FieldMatch[] = [];

/** {@link findFields} of each page alone, the matches of all pages together (`perPage`). */
function findFieldsPerPage(rules: readonly CompiledRule[], pages: readonly PageText[], context: AnalyzeContext): Fields {
  const fields: Fields = {};
  if (pages.length === 0) return fields;
  const found = rules.map((rule) => setOwn<FieldMatch[], FieldMatch[]>(fields, rule.name, []));
  for (const { page, text } of pages) {
    if (context.signal.aborted) throw new ReamError('cancelled', 'rule analysis cancelled', { cause: context.signal.reason });
    rules.forEach((rule, i) => collect(rule, page, text, found[i] as FieldMatch[]));
  }
  return fields;
}

function collect(rule: CompiledRule, page: number, text: string, found: FieldMatch[]): void {
  const searched = text.length > RULE_LIMITS.maxPageChars ? text.slice(0, RULE_LIMITS.maxPageChars) : text;
  // `exec` on the rule's own regex, as `matchAll` steps through matches: `matchAll` copies the
  // regex on each call, which cost 4× the search itself on short texts (a table's rows).
  const { regex } = rule;
  regex.lastIndex = 0;
  let kept = 0;
  for (let match = regex.exec(searched); match !== null; match = regex.exec(searched)) {
    if (match[0] === '') regex.lastIndex = nextIndex(searched, regex.lastIndex, regex.unicode || regex.unicodeSets);
    const value = valueOf(rule, match);
    if (value === undefined) continue;
    found.push({ value, page });
    if (!rule.all || ++kept >= RULE_LIMITS.maxMatchesPerPage) return;
  }
}

/** Past an empty match, as `matchAll` moves on: one code unit, or a whole surrogate pair in `u` and `v` mode. */
function nextIndex(text: string, index: number, unicode: boolean): number {
  if (!unicode || index + 1 >= text.length) return index + 1;
  const first = text.charCodeAt(index);
  const second = text.charCodeAt(index + 1);
  return first >= 0xd800 && first <= 0xdbff && second >= 0xdc00 && second <= 0xdfff ? index + 2 : index + 1;
}

/** Document-wide: rules without `all` keep only their first match; every rule has a key. */
function firstMatchesOnly(rules: readonly CompiledRule[], merged: Fields): Fields {
  const fields: Fields = {};
  for (const rule of rules) {
    const matches = ownValue(merged, rule.name) ?? [];
    setOwn(fields, rule.name, rule.all ? matches : matches.slice(0, 1));
  }
  return fields;
}
