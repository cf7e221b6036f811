import type { Analyzer, Fields } from './port.ts';

/**
 * Runs `inner` on each page alone. For a table, whose pages are rows, that makes every row an
 * item of its own: a rule's "first match" is the row's first match, not the chunk's, and no
 * document-wide `reduce` keeps one row's value for all. Each match keeps its page (its row).
 */
export function perPage(inner: Analyzer): Analyzer {
  return {
    name: inner.name,
    config: inner.config,
    async analyze(pages, context) {
      const fields: Fields = {};
      for (const page of pages) {
        for (const [name, matches] of Object.entries(await inner.analyze([page], context))) (fields[name] ??= []).push(...matches);
      }
      return fields;
    },
  };
}
