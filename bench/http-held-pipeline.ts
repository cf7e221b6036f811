// The `held` pipeline of the HTTP bench server: the `slow` test pipeline (msPerPage per page,
// like a remote model call) whose analyzer first waits for a named gate. A job submitted with
// `{ gate: 'x' }` is inspected and chunked at once (its first events are stored), but produces no
// chunk event until the bench opens gate `x`: the SSE clients can all be connected before then.
import { ReamError, toReamError } from '../src/errors.ts';
import type { PipelineFactory } from '../src/pipeline/types.ts';
import { pipelines as testPipelines } from '../test/fixtures/slow-pipeline.ts';

interface Gate {
  opened: Promise<void>;
  open(): void;
}

const gates = new Map<string, Gate>();

/** Gates are created by whichever comes first, the open or the first chunk waiting on it. */
function gate(name: string): Gate {
  let found = gates.get(name);
  if (found === undefined) {
    let open: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    found = { opened, open };
    gates.set(name, found);
  }
  return found;
}

export function openGate(name: string): void {
  gate(name).open();
}

/** Resolves when the gate opens; rejects with the task's abort reason (cancel, shutdown) first. */
function passGate(name: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(toReamError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    void gate(name).opened.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

const slow = testPipelines.slow;
if (slow === undefined) throw new Error('test/fixtures/slow-pipeline.ts no longer exports the "slow" pipeline');

export const held: PipelineFactory = (options) => {
  const { gate: name, ...rest } = options;
  if (typeof name !== 'string' || name === '') {
    throw ReamError.nonRetryable('validation_failed', 'the "held" pipeline needs options.gate, the name of the gate to wait for');
  }
  const base = slow(rest);
  return {
    ...base,
    name: 'held',
    analyzers: base.analyzers.map((analyzer) => ({
      ...analyzer,
      async analyze(pages, context) {
        await passGate(name, context.signal);
        return analyzer.analyze(pages, context);
      },
    })),
  };
};
