/**
 * A guard against the classic catastrophic-backtracking shape: a repeated group that itself
 * contains an unbounded quantifier — `(a+)+`, `(\w+\s?)*`, `(?:x*y*)+$`, and as well with a
 * bounded repeat: `(a+){1,50}` or `(.*a){12}` backtrack exponentially up to their bound (a second
 * at 26 characters). On text that almost matches, such a pattern can take exponential time, and
 * JavaScript cannot interrupt a running regex: one rule would freeze the event loop of every job
 * in the process. A group that is only optional (`(a+)?`, `(a+){0,1}`) is not repeated.
 *
 * It is a heuristic, on purpose small: it does not catch overlapping alternations (`(a|a)*`) or
 * adjacent overlapping quantifiers (`\d+\d+x`, polynomial rather than exponential, and bounded
 * by the page-length cap). It refuses some harmless patterns too (`(?:\w+,)+`, `(\s\w+){0,5}`):
 * those can be rewritten with a character class or a bounded inner quantifier (`(\s\w{1,40}){0,5}`).
 */
export function hasNestedUnboundedQuantifier(source: string, unicodeSets = false): boolean {
  // One frame per open group: does its content so far hold an unbounded quantifier?
  const frames: boolean[] = [false];
  const markTop = (): void => {
    frames[frames.length - 1] = true;
  };
  let i = 0;
  while (i < source.length) {
    const char = source[i];
    let groupHeldUnbounded = false;
    if (char === '\\') {
      i = skipEscape(source, i);
    } else if (char === '[') {
      i = skipClass(source, i, unicodeSets);
    } else if (char === '(') {
      frames.push(false);
      i = skipGroupPrefix(source, i + 1);
      continue; // a group opener is not an atom: no quantifier can follow it
    } else if (char === ')') {
      groupHeldUnbounded = frames.pop() ?? false;
      if (frames.length === 0) frames.push(false); // unbalanced: RegExp itself reports that
      i++;
    } else {
      i++;
    }
    const quantifier = readQuantifier(source, i);
    if (quantifier?.repeats && groupHeldUnbounded) return true;
    if (quantifier?.unbounded || groupHeldUnbounded) markTop();
    if (quantifier) i = quantifier.end;
  }
  return false;
}

interface Quantifier {
  /** No upper bound: `*`, `+`, `{2,}`. */
  unbounded: boolean;
  /** May match its atom more than once: every quantifier but `?`, `{0,1}`, `{1}`, … */
  repeats: boolean;
  end: number;
}

function readQuantifier(source: string, i: number): Quantifier | undefined {
  const char = source[i];
  let unbounded: boolean;
  let repeats: boolean;
  let end: number;
  if (char === '*' || char === '+') {
    unbounded = repeats = true;
    end = i + 1;
  } else if (char === '?') {
    unbounded = repeats = false;
    end = i + 1;
  } else if (char === '{') {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
    if (!braces) return undefined; // a literal brace (outside u/v mode)
    unbounded = braces[3] === '';
    repeats = unbounded || Number(braces[3] ?? braces[1]) > 1;
    end = i + braces[0].length;
  } else {
    return undefined;
  }
  if (source[end] === '?') end++; // lazy: same backtracking, other order
  return { unbounded, repeats, end };
}

/** Past an escape, including `\p{…}`, `\u{…}` and `\k<name>`, whose braces are not quantifiers. */
function skipEscape(source: string, i: number): number {
  const kind = source[i + 1];
  const closer = (kind === 'p' || kind === 'P' || kind === 'u') && source[i + 2] === '{' ? '}' : kind === 'k' && source[i + 2] === '<' ? '>' : undefined;
  if (closer) {
    const end = source.indexOf(closer, i + 3);
    return end === -1 ? source.length : end + 1;
  }
  return i + 2;
}

/** Past a character class; with the `v` flag classes nest (`[[a-z]--[aeiou]]`). */
function skipClass(source: string, i: number, unicodeSets: boolean): number {
  let depth = 0;
  for (let j = i; j < source.length; j++) {
    const char = source[j];
    if (char === '\\') j++;
    else if (char === '[' && (depth === 0 || unicodeSets)) depth++;
    else if (char === ']' && --depth === 0) return j + 1;
  }
  return source.length;
}

/** Past `?:`, `?=`, `?!`, `?<=`, `?<!` or `?<name>` after an opening parenthesis. */
function skipGroupPrefix(source: string, j: number): number {
  if (source[j] !== '?') return j;
  if (source[j + 1] === '<' && source[j + 2] !== '=' && source[j + 2] !== '!') {
    const end = source.indexOf('>', j + 2);
    return end === -1 ? source.length : end + 1;
  }
  return source[j + 1] === '<' ? j + 3 : j + 2;
}
