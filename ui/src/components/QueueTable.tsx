import type { QueueLevelView } from '@client';
import { duration } from '../format.ts';

/**
 * The task queue by priority, highest first (`GET /v1/queues`): what waits, what waits out a
 * retry's delay, what runs, and how long the longest-waiting task of each level has been due.
 */
export function QueueTable({ levels }: { levels: readonly QueueLevelView[] | undefined }) {
  if (levels === undefined) return null;
  if (levels.length === 0) return <p id="queues-empty">Nothing is queued or running.</p>;
  return (
    <div class="table-wrap">
      <table id="queues">
        <thead>
          <tr>
            <th scope="col">Priority</th>
            <th scope="col">Queued</th>
            <th scope="col">Delayed</th>
            <th scope="col">Running</th>
            <th scope="col">Oldest waiting</th>
          </tr>
        </thead>
        <tbody>
          {levels.map((level) => (
            <tr key={level.level} data-priority={String(level.priority)}>
              <th scope="row" class="queue-priority">
                {typeof level.priority === 'number' ? `level ${level.priority}` : level.priority}
              </th>
              <td class="queue-queued">{level.queued}</td>
              <td class="queue-delayed">{level.delayed}</td>
              <td class="queue-running">{level.running}</td>
              <td class="queue-age">{level.oldestAgeMs === null ? '—' : duration(level.oldestAgeMs / 1000)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
