/**
 * The port says "higher runs first, any integer, default 0"; BullMQ says "lower number first,
 * 1 … 2,097,151, and 0 means none" — and its un-prioritized jobs jump ahead of every prioritized
 * one. So every task gets a BullMQ priority (never 0), port priority 0 landing in the middle.
 *
 * Range kept exactly: -1,048,575 … +1,048,575. Beyond it a task is clamped to the nearest end:
 * it still runs before (or after) everything inside the range, only ties among the clamped ones
 * fall back to insertion order. The task keeps its exact priority in its data.
 */
const OFFSET = 2 ** 20;
/** BullMQ's highest priority number (its `PRIORITY_LIMIT`, not exported by the package). */
const BULLMQ_PRIORITY_LIMIT = 2 ** 21 - 1;
export const MAX_EXACT_PRIORITY = OFFSET - 1;

export function toBullmqPriority(priority: number): number {
  return Math.min(BULLMQ_PRIORITY_LIMIT, Math.max(1, OFFSET - priority));
}

/** The inverse for a BullMQ priority read back from Redis (a queue's head, when ranking queues). */
export function fromBullmqPriority(bullmqPriority: number): number {
  return OFFSET - bullmqPriority;
}
