import type { Redis } from 'ioredis';
import type { BullmqKeys } from './bullmq-keys.ts';
import { fromBullmqPriority, toBullmqPriority } from './bullmq-priority.ts';
import { execAll } from './bullmq-records.ts';
import type { TaskData } from './bullmq-task.ts';
import type { QueueBacklog } from './port.ts';

/**
 * One queue's backlog, read from BullMQ's keys in one script (so it sees one moment). Answers a
 * flat list of (BullMQ priority, field, value) triples, the fields being queued, delayed, running
 * and oldest (the runAt of a claimable task).
 *
 * - prioritized: walked level by level (its scores are `priority × 2³² + counter`), one ZCOUNT and
 *   one read of the level's head each: O(levels). The head is the level's next task in claim
 *   order; its `runAt` (kept in the job's data, BullMQ's `timestamp` for tasks added before it
 *   was) is the level's age.
 * - wait (un-prioritized: ream adds none, but BullMQ may put a task there): each job's priority read.
 * - delayed (future runAt, retries waiting out their delay): each job's priority is read to give
 *   it its level, so this part is O(delayed tasks); entries already due are claimable (the next
 *   claim promotes them) and count as queued.
 * - active: each job's priority, O(running tasks).
 *
 * KEYS: prioritized, wait, delayed, active. ARGV: job key prefix (`<prefix>:<queue>:`), now (ms).
 */
const BACKLOG = `
local rcall = redis.call
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local PRIORITY_FACTOR = 0x100000000
local DELAY_FACTOR = 0x1000
local out = {}
-- Scores near 2^52 lose digits in Lua's own number-to-string ('%.14g'): bounds are spelled exactly.
local function exact(n)
  return string.format('%.0f', n)
end
local function emit(priority, field, value)
  out[#out + 1] = priority
  out[#out + 1] = field
  out[#out + 1] = value
end
local function priorityOf(id)
  return tonumber(rcall('HGET', prefix .. id, 'priority')) or 0
end
local function runAtOf(id)
  local fields = rcall('HMGET', prefix .. id, 'data', 'timestamp')
  local ok, data = pcall(cjson.decode, fields[1] or '')
  if ok and type(data) == 'table' and tonumber(data.runAt) then return tonumber(data.runAt) end
  return tonumber(fields[2]) or now
end
local from = 0
while true do
  local head = rcall('ZRANGEBYSCORE', KEYS[1], exact(from), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #head == 0 then break end
  local priority = math.floor(tonumber(head[2]) / PRIORITY_FACTOR)
  emit(priority, 'queued', rcall('ZCOUNT', KEYS[1], exact(priority * PRIORITY_FACTOR), exact((priority + 1) * PRIORITY_FACTOR - 1)))
  emit(priority, 'oldest', runAtOf(head[1]))
  from = (priority + 1) * PRIORITY_FACTOR
end
for _, id in ipairs(rcall('LRANGE', KEYS[2], 0, -1)) do
  local priority = priorityOf(id)
  emit(priority, 'queued', 1)
  emit(priority, 'oldest', runAtOf(id))
end
local delayed = rcall('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
for i = 1, #delayed, 2 do
  local id = delayed[i]
  local priority = priorityOf(id)
  if math.floor(tonumber(delayed[i + 1]) / DELAY_FACTOR) <= now then
    emit(priority, 'queued', 1)
    emit(priority, 'oldest', runAtOf(id))
  else
    emit(priority, 'delayed', 1)
  end
end
for _, id in ipairs(rcall('LRANGE', KEYS[4], 0, -1)) do
  emit(priorityOf(id), 'running', 1)
end
return out`;

type Field = 'queued' | 'delayed' | 'running' | 'oldest';

/**
 * The backlog over every queue of the prefix, per port priority: one script per queue, all in
 * one round trip. `held` are tasks this process fetched ahead (active in BullMQ, queued for
 * users): they count as queued at their level, not running.
 */
export async function readBacklog(redis: Redis, keys: BullmqKeys, queueNames: readonly string[], held: readonly TaskData[], now = Date.now()): Promise<QueueBacklog[]> {
  const levels = new Map<number, QueueBacklog>();
  const level = (priority: number): QueueBacklog => {
    let entry = levels.get(priority);
    if (!entry) levels.set(priority, (entry = { priority, queued: 0, delayed: 0, running: 0, oldestQueuedAt: null }));
    return entry;
  };
  const add = (entry: QueueBacklog, field: Field, value: number): void => {
    if (field === 'oldest') entry.oldestQueuedAt = entry.oldestQueuedAt === null ? value : Math.min(entry.oldestQueuedAt, value);
    else entry[field] += value;
  };
  if (queueNames.length > 0) {
    const pipeline = redis.pipeline();
    for (const name of queueNames) {
      const key = (suffix: string): string => keys.bullmq(name, suffix);
      pipeline.eval(BACKLOG, 4, key('prioritized'), key('wait'), key('delayed'), key('active'), key(''), now);
    }
    for (const triples of (await execAll(pipeline)) as (string | number)[][]) {
      for (let i = 0; i + 2 < triples.length; i += 3) {
        add(level(fromBullmqPriority(Number(triples[i]))), triples[i + 1] as Field, Number(triples[i + 2]));
      }
    }
  }
  for (const data of held) {
    // Its level as Redis has it (a priority beyond the exact range is clamped there).
    const entry = level(fromBullmqPriority(toBullmqPriority(data.priority)));
    // Counted as running by the script unless given back meanwhile; never below zero.
    entry.running = Math.max(0, entry.running - 1);
    add(entry, 'queued', 1);
    add(entry, 'oldest', data.runAt ?? now);
  }
  return [...levels.values()].filter((entry) => entry.queued + entry.delayed + entry.running > 0).sort((a, b) => b.priority - a.priority);
}
