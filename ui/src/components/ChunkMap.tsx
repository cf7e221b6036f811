import { useState } from 'preact/hooks';
import type { DocumentState } from '../job-state.ts';

/** One cell per chunk of a document, filling in as chunks finish, red where one failed; a cell opens its details. */
export function ChunkMap({ document, name }: { document: DocumentState; name: string }) {
  const [open, setOpen] = useState<number | undefined>(undefined);
  const highest = Math.max(-1, ...document.chunks.keys());
  if (highest < 0) return null;
  const cells = Array.from({ length: highest + 1 }, (_, index) => ({ index, chunk: document.chunks.get(index) }));
  const chosen = open === undefined ? undefined : document.chunks.get(open);
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
          {chosen.message === '' ? '' : ` — ${chosen.message}`}
        </p>
      ) : null}
    </div>
  );
}
