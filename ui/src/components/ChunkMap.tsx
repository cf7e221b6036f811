import { useState } from 'preact/hooks';
import { plural } from '../format.ts';
import type { DocumentState } from '../job-state.ts';

const NO_CHUNKS: DocumentState['chunks'] = new Map();

/**
 * One cell per chunk of a document, filling in as chunks finish, red where one failed; a cell
 * opens its details. Every chunk has its cell from the start once the planned count (`total`) is known.
 */
export function ChunkMap({ document, total, name }: { document: DocumentState | undefined; total: number | null; name: string }) {
  const [open, setOpen] = useState<number | undefined>(undefined);
  const chunks = document?.chunks ?? NO_CHUNKS;
  const count = Math.max(total ?? 0, Math.max(-1, ...chunks.keys()) + 1);
  if (count === 0) return null;
  const cells = Array.from({ length: count }, (_, index) => ({ index, chunk: chunks.get(index) }));
  const chosen = open === undefined ? undefined : chunks.get(open);
  return (
    <div class="chunk-map">
      <div role="group" aria-label={`Chunks of ${name}`} class="cells">
        {cells.map(({ index, chunk }) => (
          <button
            type="button"
            key={index}
            class={`cell ${chunk?.state ?? 'pending'}`}
            aria-pressed={open === index}
            aria-label={`Chunk ${index + 1}${chunk ? `, pages ${chunk.from + 1}–${chunk.to}` : ''}: ${chunk?.state ?? 'pending'}`}
            onClick={() => setOpen(open === index ? undefined : index)}
          />
        ))}
      </div>
      {chosen && open !== undefined ? (
        <p class="chunk-detail">
          Chunk {open + 1}, pages {chosen.from + 1}–{chosen.to}: {chosen.state}
          {chosen.attempts === undefined ? '' : `, ${plural(chosen.attempts, 'attempt')}`}
          {chosen.message === '' ? '' : ` — ${chosen.message}`}
        </p>
      ) : null}
    </div>
  );
}
