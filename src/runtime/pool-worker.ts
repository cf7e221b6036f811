// The one module every pool thread runs. It dispatches by task name, so one pool serves every
// format: `pdf.extract` goes to the `pdf` module's `tasks`. Modules load lazily, on a thread's
// first task of their kind, so a pool that only ever reads text never loads pdf.js.
import { threadId, workerData } from 'node:worker_threads';
import { ReamError, toReamError } from '../errors.ts';
import type { TaskHandler, TaskModule } from '../formats/types.ts';
import type { PoolWorkerData, TaskReply, TaskRequest } from './pool-protocol.ts';
import { claimSlot } from './thread-memory.ts';

/** Built-in task modules by name prefix. Test-only tasks never appear here (see `handlerModules`). */
const BUILT_IN: Readonly<Record<string, () => Promise<TaskModule>>> = {
  pdf: () => import('../formats/pdf/pdf-tasks.ts'),
  sheet: () => import('../formats/sheet/sheet-tasks.ts'),
  image: () => import('../formats/image/image-tasks.ts'),
  docx: () => import('../formats/docx/docx-tasks.ts'),
  html: () => import('../formats/html/html-tasks.ts'),
  email: () => import('../formats/email/email-tasks.ts'),
};

const loaded = new Map<string, Promise<TaskModule>>();
let extraTasks: Promise<Map<string, TaskHandler>> | undefined;

function loadExtraTasks(): Promise<Map<string, TaskHandler>> {
  extraTasks ??= (async () => {
    const tasks = new Map<string, TaskHandler>();
    const { handlerModules = [] } = (workerData ?? {}) as Partial<PoolWorkerData>;
    for (const url of handlerModules) {
      const module = (await import(url)) as TaskModule;
      for (const [name, handler] of Object.entries(module.tasks)) tasks.set(name, handler);
    }
    return tasks;
  })();
  return extraTasks;
}

async function findHandler(task: string): Promise<TaskHandler> {
  const prefix = task.slice(0, task.indexOf('.'));
  const load = Object.hasOwn(BUILT_IN, prefix) ? BUILT_IN[prefix] : undefined;
  if (load) {
    let module = loaded.get(prefix);
    if (!module) {
      module = load();
      loaded.set(prefix, module);
    }
    const handler = (await module).tasks[task];
    if (handler) return handler;
  }
  const handler = (await loadExtraTasks()).get(task);
  if (!handler) throw ReamError.nonRetryable('internal', `no thread-pool task is called "${task}"`);
  return handler;
}

/** Bytes the loaded task modules hold that never shrink (WebAssembly memory). */
async function heldBytes(): Promise<number> {
  let total = 0;
  for (const module of loaded.values()) total += (await module).heldBytes?.() ?? 0;
  return total;
}

/** Piscina calls the default export with each task; it never throws (see pool-protocol.ts). */
export default async function runTask(request: TaskRequest): Promise<TaskReply> {
  const data = workerData as Partial<PoolWorkerData> | undefined;
  // First of all: from now on the main thread watches this thread's memory for this task.
  claimSlot(data?.threadTable, request.slot, threadId);
  let reply: TaskReply;
  try {
    const handler = await findHandler(request.task);
    reply = { ok: true, value: await handler(request.input) };
  } catch (error) {
    reply = { ok: false, error: toReamError(error).toJSON() };
  }
  const cap = data?.retireAboveBytes;
  if (cap !== undefined && (await heldBytes().catch(() => 0)) > cap) reply.retire = true;
  return reply;
}
