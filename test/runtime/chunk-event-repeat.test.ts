// A chunk task that dies after storing its checkpoint but before its chunk.completed event (a
// worker killed between the two) is run again: the repeat reads nothing twice, and says what the
// first run could not, once — SSE, WebSocket and /metrics count from these events. Both modes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { NewEvent } from '../../src/events/types.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

let dir: string;
let pdf: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-chunk-event-repeat-'));
  pdf = join(dir, 'book.pdf');
  await writePdf(pdf, { pages: numberedPages('book', 12) });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const mode of MODES) {
  void test(`${mode}: a chunk whose run died between its checkpoint and its event gets its chunk.completed from the repeat, once`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const { store } = adaptersOf(ream);
      // The first chunk.completed of chunk 1 is lost as the run dies: its checkpoint is stored already.
      const append = store.appendEvent.bind(store);
      let died = false;
      store.appendEvent = (event: NewEvent) => {
        if (!died && event.type === 'chunk.completed' && event.chunk?.index === 1) {
          died = true;
          return Promise.reject(new Error('the worker died here'));
        }
        return append(event);
      };
      const job = await ream.submit({ files: [pdf], options: { chunkPages: 4 } });
      const done = await ream.wait(job.id, { signal: AbortSignal.timeout(90_000) });
      assert.equal(done.status, 'succeeded');
      assert.ok(died, 'the run of chunk 1 died after its checkpoint');
      const events = await store.listEvents(job.id, 0, 1_000);
      const completed = events.filter((e) => e.type === 'chunk.completed').map((e) => e.chunk?.index).sort();
      assert.deepEqual(completed, [0, 1, 2], 'one chunk.completed per chunk');
      assert.equal((await store.jobCounts(job.id)).chunksSucceeded, 3);
    });
  });
}
