// `ream rows` writes its table while the job runs: as the batches' checkpoints land, the rows of
// those that follow the written ones without a gap go to `<out>.partial`, so the writing
// overlaps the parsing instead of starting when the job ends (a 1,000,000-row table took ~5 s
// of writing after the job). The layout is guessed before the job's result exists (the table's
// columns from its inspection, the fields from the rules' names and the model's questions); when the result names other
// columns, the rows written are dropped and the table written again from the start. The
// `.partial` file is begun anew by every run, so a resume after a crash rewrites it whole.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject, JsonValue } from '../json.ts';
import { llmFieldNames } from '../analyzers/llm/modes/index.ts';
import { parseLlmSpec } from '../analyzers/llm/spec.ts';
import type { DocumentMetadata } from '../formats/types.ts';
import type { Ream } from '../runtime/create-ream.ts';
import { csvFieldsOf, tableLayout, writeTableBatch, type RowCounts, type TableLayout } from './rows-table.ts';
import { openTableWriter, type TableWriter } from './table-writers.ts';

/** How often the follower looks for newly stored checkpoints. */
const POLL_MS = 100;

/** What was written while the job ran: the rows of pages 1–`pagesWritten`, of `columns` and `fieldNames`, under `header`. */
export interface FollowedTable {
  writer: TableWriter;
  columns: readonly string[];
  fieldNames: readonly string[];
  header: string[];
  sheet: string | undefined;
  pagesWritten: number;
  counts: RowCounts;
}

export interface TableFollower {
  /**
   * Stops following once the batch in hand is written; what was written, if anything (none after
   * an error), to the first caller only.
   */
  stop(): Promise<FollowedTable | undefined>;
}

/** The field names rules report, in their order: `[{ name }, …]` (anything else: none guessed). */
function ruleFieldNames(rules: JsonValue | undefined): string[] {
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((rule) => (rule !== null && typeof rule === 'object' && !Array.isArray(rule) && typeof rule.name === 'string' ? [rule.name] : []));
}

/**
 * The field columns of a `rows` job's table, known from its options before any row runs: its
 * rules' names, then those its model questions fill. The table keeps them when every row fails.
 */
export function tableFieldNames(options: JsonObject): string[] {
  const llm = options.llm;
  const asked = llm !== undefined && llm !== null && typeof llm === 'object' && !Array.isArray(llm) ? llmFieldNames(parseLlmSpec(llm)) : [];
  return [...new Set([...ruleFieldNames(options.rules), ...asked])];
}

/**
 * Follows `documentId` of `jobId`, writing its finished batches to `out` (see the file's comment)
 * with the fields `fieldNames`; `sheetName` names the sheet of an .xlsx when the table has none.
 */
export function followTable(ream: Ream, jobId: string, documentId: string, out: string, fieldNames: readonly string[], sheetName: (metadata: DocumentMetadata) => string): TableFollower {
  const stopping = new AbortController();
  let table: (FollowedTable & { layout: TableLayout }) | undefined;

  /** The writer, once the table's columns are known (after its inspection). */
  async function open(): Promise<typeof table> {
    const jobDoc = await ream.jobDocument(jobId, documentId);
    const info = jobDoc?.info as { metadata?: DocumentMetadata } | null | undefined;
    const metadata = info?.metadata;
    if (metadata?.columns === undefined) return undefined; // not inspected yet
    const layout = tableLayout(metadata.columns, fieldNames);
    const sheet = sheetName(metadata);
    const writer = await openTableWriter(out, layout.header, sheet, metadata.columns.length);
    return { writer, columns: metadata.columns, fieldNames, header: layout.header, sheet, pagesWritten: 0, counts: { rows: 0, failedRows: 0 }, layout };
  }

  async function follow(): Promise<void> {
    while (!stopping.signal.aborted) {
      table ??= await open();
      if (table) {
        const current = table;
        const options = { after: current.pagesWritten, finishedOnly: true, ...csvFieldsOf(current.writer, current.layout) };
        for await (const batch of ream.documentTableBatches(jobId, documentId, options)) {
          current.pagesWritten = (await writeTableBatch(current.writer, current.layout, batch, current.counts)) ?? current.pagesWritten;
          if (stopping.signal.aborted) return;
        }
      }
      await sleep(POLL_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  const following = follow().then(
    () => true,
    async () => {
      // A failed write (a full disk, …) is met again by the writing after the job, which reports it.
      await table?.writer.abort().catch(() => undefined);
      return false;
    },
  );
  return {
    async stop() {
      stopping.abort();
      const ok = await following;
      // Handed over once: whoever took it finishes or drops it.
      const taken = table;
      table = undefined;
      return ok ? taken : undefined;
    },
  };
}
