import { ReamError } from '../../errors.ts';
import { hasNestedUnboundedQuantifier } from './regex-safety.ts';

/**
 * One rule: a named field and how to find it — a regular expression or a list of keywords,
 * exactly one of the two. A rules file (`ream run --rules rules.json`) is a JSON array of these.
 *
 * @example
 * [
 *   { "name": "invoice_number", "pattern": "Invoice (?:No\\.?|#)\\s*([A-Z0-9-]+)", "flags": "i" },
 *   { "name": "total", "pattern": "Total:?\\s*(?<amount>[\\d.,]+)", "group": "amount" },
 *   { "name": "currency", "keywords": ["EUR", "USD", "GBP"], "caseSensitive": true, "all": true }
 * ]
 */
export interface RuleSpec {
  /** The field's name in the results: letters, digits, `_`, `-`, `.`, 1–100 characters, unique. */
  name: string;
  /**
   * A JavaScript regular expression (the source, without slashes), at most 1,000 characters.
   * Nested unbounded quantifiers such as `(a+)+` are refused: they can backtrack for hours.
   */
  pattern?: string;
  /** RegExp flags for `pattern`, from `d i m s u v` (`g` is implied; `y` is refused). Default none. */
  flags?: string;
  /**
   * Which part of a `pattern` match is the value: a group number or a named group.
   * Default: group 1 when the pattern has capture groups, otherwise the whole match.
   */
  group?: number | string;
  /**
   * Words or phrases to look for, matched as whole words (`total` does not match `subtotal`),
   * any run of spaces in a phrase matching any run of whitespace. The value is the text as it
   * appears in the document. At most 1,000 keywords of at most 200 characters.
   */
  keywords?: string[];
  /**
   * Whether letter case must match. Default: false for `keywords`; for a `pattern`, whatever its
   * flags say (case-sensitive unless `i`); `false` adds the `i` flag.
   */
  caseSensitive?: boolean;
  /** Report every match (at most 1,000 per page) instead of only the first in the document. Default false. */
  all?: boolean;
}

/** Bounds that keep one rules file from monopolising a worker. */
export const RULE_LIMITS = {
  /** Rules in one analyzer. */
  maxRules: 200,
  /** Characters of a `pattern`. */
  maxPatternLength: 1_000,
  /** Entries of `keywords`. */
  maxKeywords: 1_000,
  /** Characters of one keyword. */
  maxKeywordLength: 200,
  /**
   * Characters of each page that rules search, from the start of the page; the rest is not
   * searched. Caps the time any pattern — even a slow one that passed the nested-quantifier
   * check — can spend on one page. A dense printed page has 3,000–6,000 characters.
   */
  maxPageChars: 200_000,
  /** Matches kept per rule per page with `all: true`. */
  maxMatchesPerPage: 1_000,
} as const;

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const KNOWN_KEYS = new Set(['name', 'pattern', 'flags', 'group', 'keywords', 'caseSensitive', 'all']);
const PATTERN_FLAGS = /^[dgimsuv]*$/;

/**
 * Checks a rules file's parsed JSON and returns its rules. Every problem is collected, so one
 * `validation_failed` error lists them all (also as `details.problems`), each saying which rule.
 */
export function parseRuleSpecs(json: unknown): RuleSpec[] {
  if (!Array.isArray(json)) {
    throw invalid(['rules must be a JSON array of rule objects, e.g. [{"name": "total", "pattern": "Total: (\\\\S+)"}]']);
  }
  const problems: string[] = [];
  if (json.length === 0) problems.push('there are no rules');
  if (json.length > RULE_LIMITS.maxRules) problems.push(`there are ${json.length} rules; at most ${RULE_LIMITS.maxRules} are allowed`);
  const specs: RuleSpec[] = [];
  const seen = new Set<string>();
  json.forEach((raw: unknown, i) => {
    const label = ruleLabel(raw, i);
    const spec = checkRule(raw, (problem) => problems.push(`${label}: ${problem}`));
    if (!spec) return;
    if (seen.has(spec.name)) problems.push(`${label}: the name "${spec.name}" is used by an earlier rule; names must be unique`);
    seen.add(spec.name);
    specs.push(spec);
  });
  if (problems.length > 0) throw invalid(problems);
  return specs;
}

function ruleLabel(raw: unknown, i: number): string {
  const name = (raw as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? `rule ${i + 1} ("${name}")` : `rule ${i + 1}`;
}

function invalid(problems: string[]): ReamError {
  return ReamError.nonRetryable('validation_failed', `invalid rules: ${problems.join('; ')}`, { details: { problems } });
}

/** Validates one rule, reporting each problem; returns a clean copy when there were none. */
function checkRule(raw: unknown, report: (problem: string) => void): RuleSpec | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    report('must be an object with a "name" and a "pattern" or "keywords"');
    return undefined;
  }
  const rule = raw as Record<string, unknown>;
  const before = { count: 0 };
  const problem = (message: string): void => {
    before.count++;
    report(message);
  };
  for (const key of Object.keys(rule)) {
    if (!KNOWN_KEYS.has(key)) problem(`unknown property "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const { name, pattern, flags, group, keywords, caseSensitive, all } = rule;
  if (typeof name !== 'string' || !NAME.test(name)) {
    problem('"name" must be 1–100 letters, digits, "_", "-" or ".", not starting with "-" or "."');
  } else if (name === '__proto__') {
    problem('"__proto__" cannot be a field name');
  }
  if (caseSensitive !== undefined && typeof caseSensitive !== 'boolean') problem('"caseSensitive" must be true or false');
  if (all !== undefined && typeof all !== 'boolean') problem('"all" must be true or false');

  if ((pattern === undefined) === (keywords === undefined)) {
    problem('give exactly one of "pattern" and "keywords"');
  } else if (pattern !== undefined) {
    checkPattern(pattern, flags, group, caseSensitive, problem);
  } else {
    if (flags !== undefined) problem('"flags" applies to "pattern" only');
    if (group !== undefined) problem('"group" applies to "pattern" only');
    checkKeywords(keywords, problem);
  }
  if (before.count > 0) return undefined;
  // A copy, so later changes to the caller's object cannot bypass these checks.
  const spec = raw as RuleSpec;
  return {
    name: spec.name,
    ...(spec.pattern === undefined ? {} : { pattern: spec.pattern }),
    ...(spec.flags === undefined ? {} : { flags: spec.flags }),
    ...(spec.group === undefined ? {} : { group: spec.group }),
    ...(spec.keywords === undefined ? {} : { keywords: [...spec.keywords] }),
    ...(spec.caseSensitive === undefined ? {} : { caseSensitive: spec.caseSensitive }),
    ...(spec.all === undefined ? {} : { all: spec.all }),
  };
}

function checkPattern(pattern: unknown, flags: unknown, group: unknown, caseSensitive: unknown, problem: (message: string) => void): void {
  if (typeof pattern !== 'string' || pattern === '') return problem('"pattern" must be a non-empty string');
  if (pattern.length > RULE_LIMITS.maxPatternLength) return problem(`"pattern" is ${pattern.length} characters; at most ${RULE_LIMITS.maxPatternLength} are allowed`);
  if (flags !== undefined && (typeof flags !== 'string' || !PATTERN_FLAGS.test(flags) || new Set(flags).size !== flags.length)) {
    return problem(`"flags" must be distinct letters from "dgimsuv", got ${JSON.stringify(flags)}${typeof flags === 'string' && flags.includes('y') ? ' (sticky matching is not supported)' : ''}`);
  }
  const flagText = typeof flags === 'string' ? flags : '';
  if (caseSensitive === true && flagText.includes('i')) return problem('"caseSensitive": true contradicts the "i" flag');
  let probe: RegExpExecArray | null;
  try {
    // Alternation with the empty pattern always matches '', which reveals the capture groups.
    new RegExp(pattern, flagText);
    probe = new RegExp(`(?:${pattern})|`, flagText).exec('');
  } catch (error) {
    return problem(`"pattern" is not a valid regular expression: ${(error as Error).message}`);
  }
  if (hasNestedUnboundedQuantifier(pattern, flagText.includes('v'))) {
    return problem('"pattern" nests unbounded quantifiers: it repeats a group that holds "+", "*" or "{n,}" (like "(a+)+" or "(a+){1,50}"), which can take exponential time; write the repeated part as one character class, or bound the inner quantifier ("(\\s\\w{1,40}){0,5}")');
  }
  const groupCount = (probe?.length ?? 1) - 1;
  const groupNames = Object.keys(probe?.groups ?? {});
  if (group === undefined) return;
  if (typeof group === 'number') {
    if (!Number.isInteger(group) || group < 0 || group > groupCount) problem(`"group" ${group} does not exist: the pattern has ${groupCount} capture group(s)`);
  } else if (typeof group === 'string') {
    if (!groupNames.includes(group)) problem(`"group" "${group}" is not a named group of the pattern${groupNames.length ? ` (it has: ${groupNames.join(', ')})` : ''}`);
  } else {
    problem('"group" must be a group number or a group name');
  }
}

function checkKeywords(keywords: unknown, problem: (message: string) => void): void {
  if (!Array.isArray(keywords) || keywords.length === 0) return problem('"keywords" must be a non-empty array of strings');
  if (keywords.length > RULE_LIMITS.maxKeywords) return problem(`"keywords" has ${keywords.length} entries; at most ${RULE_LIMITS.maxKeywords} are allowed`);
  keywords.forEach((keyword: unknown, i) => {
    if (typeof keyword !== 'string' || keyword.trim() === '') problem(`keyword ${i + 1} must be a non-empty string`);
    else if (keyword.length > RULE_LIMITS.maxKeywordLength) problem(`keyword ${i + 1} is longer than ${RULE_LIMITS.maxKeywordLength} characters`);
  });
}
