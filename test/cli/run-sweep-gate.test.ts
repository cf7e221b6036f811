import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQuietGate } from '../../src/cli/run-sweep.ts';

// `ream run` looked up waiting documents in the store every 3 s, whether or not the end events
// were arriving. It looks only after an interval with no end event.

test('while end events arrive, no sweep is due', () => {
  const gate = createQuietGate();
  for (let i = 0; i < 5; i++) {
    gate.heard();
    assert.equal(gate.quiet(), false);
  }
});

test('a sweep after an interval with no end event looks: a lost event is still caught', () => {
  const gate = createQuietGate();
  gate.heard(); // another document's event: this interval is skipped
  assert.equal(gate.quiet(), false);
  assert.equal(gate.quiet(), true, 'quiet since the last sweep');
  assert.equal(gate.quiet(), true, 'every quiet interval looks again');
});
