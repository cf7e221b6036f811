import type { PageText } from '../../formats/types.ts';
import type { ChatMessage } from './client.ts';

/**
 * Page text as the model sees it: each page behind a marker with its 1-based number, so answers
 * can name the pages they come from.
 */
export function pagesBlock(pages: readonly PageText[]): string {
  return [...pages]
    .sort((a, b) => a.page - b.page)
    .map((page) => `<<<page ${page.page}>>>\n${page.text.trim()}`)
    .join('\n\n');
}

/**
 * A rough token count, for budgets, pacing and splitting before a call: ≈4 characters a token
 * for alphabetic scripts (Latin, Greek, Cyrillic, Arabic, Hebrew: below U+0800), and a token a
 * character for the others (Chinese, Japanese, Korean, Thai, Devanagari…), which tokenizers cut
 * into a token or more each. Counted at 4 a token, such text spent several times its estimate,
 * and calls reserved within a budget went past it together.
 */
export function estimateTokens(text: string): number {
  let narrow = 0;
  let wide = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x0800) narrow++;
    else if (code < 0xdc00 || code > 0xdfff) wide++; // a surrogate pair is one character
  }
  return Math.ceil(narrow / 4) + wide;
}

export function messagesTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + estimateTokens(message.content) + 4, 0);
}

const JSON_ONLY = 'Answer with one JSON object only, no prose and no code fence.';

/** A system prompt for `task`, with what every answer must respect. */
export function systemPrompt(task: string, json: boolean): string {
  return [
    'You analyse documents. The document text is given page by page; each page starts with a marker like <<<page 12>>>.',
    task,
    'Use only what the text says; never invent a value. Page numbers are the numbers in the markers.',
    json ? JSON_ONLY : '',
  ].filter((line) => line !== '').join('\n');
}

/** The message that asks for a corrected answer after a validation failure (bounded by `maxRepairs`). */
export function repairPrompt(problem: string): string {
  return `Your previous answer was not valid: ${problem.slice(0, 2000)}\nAnswer again, correcting it. ${JSON_ONLY}`;
}
