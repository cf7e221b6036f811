// PDFium's text of a line some producers draw twice (drop shadows, fake bold: the same string
// printed again a fraction of a point off) holds both copies; poppler and pdf.js print it once
// (for pdf.js, page-text.ts drops the second run). Pure, and run on every line PDFium reads.

/** Letters a copy must hold: rows of symbols or figures ("* * * * * *") repeat for real. */
const MIN_LETTERS = 3;
/** Code points a copy must have (shorter repeats, "ha ha", are real text). */
const MIN_COPY = 6;
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/**
 * The first copy of a line that is one string twice (6 characters or more, starting with a
 * non-blank), with or without a space between: "Echelle : 1/25000 Echelle : 1/25000" → "Echelle
 * : 1/25000". Any other line as it is. The copy's length follows from the line's (half of it,
 * or half of it less the space), so this compares the halves once rather than trying every
 * length as a backreference pattern (`^(\S.{5,}?) ?\1$`) would, which costs the square of the line.
 */
export function withoutOverprint(line: string): string {
  const withSpace = line.length % 2 === 1;
  const half = withSpace ? (line.length - 1) / 2 : line.length / 2;
  if (half < MIN_COPY) return line;
  const copy = line.slice(0, half);
  if (withSpace && line[half] !== ' ') return line;
  if (line.slice(line.length - half) !== copy) return line;
  if (!/^\S/u.test(copy) || LINE_TERMINATOR.test(copy)) return line;
  if (half < 2 * MIN_COPY && [...copy].length < MIN_COPY) return line;
  return (copy.match(/\p{L}/gu)?.length ?? 0) >= MIN_LETTERS ? copy : line;
}
