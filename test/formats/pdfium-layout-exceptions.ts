// Corpus documents where PDFium's word breaks differ from pdftotext's on layouts that are not
// running text, with every character still there (letter F1 ≥ 0.98). pdftotext is right on
// both; docs/benchmarks.md ("PDF text fidelity") has the figures. The fidelity and corpus tests
// hold these to their characters only, and fail once one meets the word bar again (the list
// must then shrink).
export const PDFIUM_WORD_BREAK_EXCEPTIONS: Readonly<Record<string, string>> = {
  // A chart: PDFium puts subscripts on lines of their own ("b" / "0" for b₀) and joins a
  // vertical axis into one word ("0123456789").
  'pictures-doc__examples__ASS-S_3.pdf': 'chart labels and subscripts',
  // A specimen of Persian kashida (U+0640) stretching: PDFium breaks words at each kashida.
  'lang-arabic__xepersian-hm__xepersian-hm-doc.pdf': 'kashida specimens',
};
