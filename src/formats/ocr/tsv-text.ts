// tesseract's TSV output (one row per page, block, paragraph, line and word) read back into what
// tesseract.js gives: the text (words of a line joined by spaces, a blank line between blocks
// and paragraphs, as tesseract's own text output) and the mean word confidence.
import type { Recognition } from './tesseract.ts';

const WORD_LEVEL = '5';

export function parseTsv(tsv: string): Recognition {
  const lines: string[] = [];
  let current: string[] = [];
  let lineKey = '';
  let paragraphKey = '';
  let confidenceSum = 0;
  let words = 0;
  for (const row of tsv.split('\n').slice(1)) {
    const cells = row.split('\t');
    // level page block par line word left top width height conf text
    if (cells.length < 12 || cells[0] !== WORD_LEVEL) continue;
    const text = cells.slice(11).join('\t').trim();
    const confidence = Number(cells[10]);
    if (!text || !(confidence >= 0)) continue;
    const paragraph = cells.slice(1, 4).join('.');
    const line = `${paragraph}.${cells[4]}`;
    if (line !== lineKey) {
      if (current.length > 0) lines.push(current.join(' '));
      if (paragraph !== paragraphKey && lines.length > 0) lines.push('');
      current = [];
      lineKey = line;
      paragraphKey = paragraph;
    }
    current.push(text);
    confidenceSum += confidence;
    words += 1;
  }
  if (current.length > 0) lines.push(current.join(' '));
  return { text: lines.length > 0 ? `${lines.join('\n')}\n` : '', confidence: words > 0 ? Math.round(confidenceSum / words) : 0 };
}
