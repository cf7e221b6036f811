// A line PDFium reads twice over (drop shadows, fake bold) comes out once; the check that halves
// the line decides exactly as the backreference pattern it replaced, on cases and on random lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutOverprint } from '../../src/formats/pdf/line-overprint.ts';

/** What PDFium's lines went through before: a backreference pattern, tried at every length. */
function byPattern(line: string): string {
  const copy = /^(\S.{5,}?) ?\1$/u.exec(line)?.[1];
  return copy !== undefined && (copy.match(/\p{L}/gu)?.length ?? 0) >= 3 ? copy : line;
}

void test('a line drawn twice comes out once; real repeats and other lines stay', () => {
  assert.equal(withoutOverprint('Echelle : 1/25000 Echelle : 1/25000'), 'Echelle : 1/25000');
  assert.equal(withoutOverprint('ProjectProject'), 'Project');
  assert.equal(withoutOverprint('ha ha'), 'ha ha', 'too short to be a copy');
  assert.equal(withoutOverprint('* * * * * * * *'), '* * * * * * * *', 'symbols repeat for real');
  assert.equal(withoutOverprint('12345678 12345678'), '12345678 12345678', 'figures repeat for real');
  assert.equal(withoutOverprint(' abcdef abcdef'), ' abcdef abcdef', 'a copy starts with a non-blank');
  assert.equal(withoutOverprint('Total 100  Total 100'), 'Total 100  Total 100', 'two spaces are not one');
  assert.equal(withoutOverprint(''), '');
});

void test('it decides every line as the pattern did', () => {
  const alphabet = ['a', 'b', 'é', '字', '𝐀', '1', ' ', ' ', '-', '\u2028', '\t'];
  let seed = 7;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let copies = 0;
  for (let i = 0; i < 20_000; i++) {
    const part = Array.from({ length: next(12) }, () => alphabet[next(alphabet.length)]).join('');
    // Half the lines are a string twice (with or without a space), the rest random.
    const shape = next(4);
    const line = shape === 0 ? `${part}${part}` : shape === 1 ? `${part} ${part}` : `${part}${Array.from({ length: next(12) }, () => alphabet[next(alphabet.length)]).join('')}`;
    const expected = byPattern(line);
    if (expected !== line) copies++;
    assert.equal(withoutOverprint(line), expected, JSON.stringify(line));
  }
  assert.ok(copies > 1_000, `lines drawn twice were put to the test (${copies})`);
});
