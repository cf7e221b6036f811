import type { MetricsSample, QueueLevelView, ReamClient, UsageView, WorkerView } from '@client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Chart } from '../components/Chart.tsx';
import { ErrorText, Page } from '../components/common.tsx';
import { ErrorGroups } from '../components/ErrorGroups.tsx';
import { QueueTable } from '../components/QueueTable.tsx';
import { Tenants } from '../components/Tenants.tsx';
import { isForbidden, messageOf, usd, when } from '../format.ts';
import { historyLines, mergeSamples } from '../metrics.ts';

const REFRESH_MS = 3000;

/** A command stays the worker's standing order; once its state shows it, it is news no more. */
function applied(command: string, state: string): boolean {
  return (command === 'pause' && state === 'paused') || (command === 'resume' && state === 'running') || (command === 'drain' && state === 'draining');
}
const COMMANDS = ['pause', 'resume', 'drain'] as const;
/** How far back the charts reach, by the label of the span picker. */
const SPANS = { '15 minutes': 15 * 60_000, '1 hour': 60 * 60_000, '24 hours': 24 * 60 * 60_000 } as const;
type SpanName = keyof typeof SPANS;
const FAILURE_COLORS = ['#dc2626', '#b45309', '#be185d', '#6b7280'];

/** The deployment's activity over time, from the server's metrics history (see docs/dashboard.md). */
function Charts({ samples }: { samples: readonly MetricsSample[] }) {
  if (samples.length === 0) return <p id="charts-empty">No samples yet: the server stores one per interval (10 s by default) while it runs.</p>;
  const lines = historyLines(samples);
  const { times } = lines;
  return (
    <div class="charts">
      <Chart
        title="Throughput"
        unit="per second"
        times={times}
        series={[
          { label: 'pages', values: lines.pagesPerSecond, color: '#2f7de1' },
          { label: 'tasks', values: lines.tasksPerSecond, color: '#16a34a' },
        ]}
      />
      <Chart
        key={lines.failures.map((line) => line.code).join(' ')}
        title="Failures by code"
        unit="per second"
        times={times}
        series={lines.failures.length === 0 ? [{ label: 'none', values: times.map(() => 0), color: '#16a34a' }] : lines.failures.map((line, i) => ({ label: line.code, values: line.perSecond, color: FAILURE_COLORS[i % FAILURE_COLORS.length] ?? '#dc2626' }))}
      />
      <Chart
        title="Queue"
        unit="tasks"
        times={times}
        series={[
          { label: 'queued', values: lines.queued, color: '#7c3aed' },
          { label: 'running', values: lines.running, color: '#0891b2' },
        ]}
      />
      <Chart title="Queue age" unit="seconds" times={times} series={[{ label: 'oldest waiting task', values: lines.oldestQueuedSeconds, color: '#b45309' }]} />
      <Chart title="Model tokens" unit="per second" times={times} series={[{ label: 'tokens', values: lines.tokensPerSecond, color: '#2f7de1' }]} />
    </div>
  );
}

/** Admin: the worker processes (with their tasks in flight) and pause/resume/drain, the queues by priority, activity, errors, tenants; the tenant's model usage. */
export function Operate({ client }: { client: ReamClient }) {
  const [workers, setWorkers] = useState<WorkerView[] | undefined>(undefined);
  const [queues, setQueues] = useState<QueueLevelView[] | undefined>(undefined);
  const [usage, setUsage] = useState<UsageView | undefined>(undefined);
  const [error, setError] = useState('');
  const [forbidden, setForbidden] = useState(false);
  const [samples, setSamples] = useState<MetricsSample[]>([]);
  const [span, setSpan] = useState<SpanName>('1 hour');
  const newest = useRef(0);

  const load = async (): Promise<void> => {
    try {
      const [nextWorkers, nextQueues] = await Promise.all([client.workers(), client.queues()]);
      setWorkers(nextWorkers);
      setQueues(nextQueues);
      // Only what is new since the last read: a day of samples is fetched once, not every 3 s.
      const keepSince = Date.now() - SPANS[span];
      const { items } = await client.metricsHistory({ since: Math.max(keepSince, newest.current) });
      newest.current = items.at(-1)?.at ?? newest.current;
      setSamples((previous) => mergeSamples(previous, items, keepSince));
      setError('');
    } catch (failure) {
      if (isForbidden(failure)) setForbidden(true);
      else setError(messageOf(failure));
    }
  };

  useEffect(() => {
    // Refused once (not an admin): not asked again every few seconds.
    if (forbidden) return;
    void load();
    client.usage().then((answer) => setUsage(answer.usage), () => undefined);
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [client, span, forbidden]);

  const command = async (id: string, name: (typeof COMMANDS)[number]): Promise<void> => {
    try {
      await client.commandWorker(id, name);
      await load();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <Page title="Operate">
      <ErrorText message={error} id="operate-error" />
      <h2>Workers</h2>
      {forbidden ? <p id="operate-forbidden">Workers are shown to admins only.</p> : null}
      {workers === undefined || forbidden ? null : workers.length === 0 ? (
        <p>No worker has been heard from in the last 30 s.</p>
      ) : (
        <div class="table-wrap">
          <table id="workers">
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">State</th>
                <th scope="col">Tasks</th>
                <th scope="col">CPU</th>
                <th scope="col">RSS</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Control</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((worker) => (
                <tr key={worker.id} data-worker-id={worker.id}>
                  <td>
                    <code>{worker.id}</code>
                    <br />
                    <span class="muted">
                      {worker.host} pid {worker.pid}
                    </span>
                  </td>
                  <td class="worker-state">
                    {worker.state}
                    {worker.pausedReason === undefined ? '' : ` (${worker.pausedReason})`}
                    {worker.command === undefined || applied(worker.command, worker.state) ? '' : `, asked to ${worker.command}`}
                  </td>
                  <td>
                    {worker.inFlight} of {worker.concurrency} running; {worker.tasksDone} done, {worker.tasksFailed} failed
                    <ul class="tasks">
                      {worker.running.map((task) => (
                        <li key={task.taskId}>
                          {task.kind} {task.jobId}
                          {task.chunk === undefined ? '' : ` chunk ${task.chunk.index + 1}`} ({Math.round((task.ageMs ?? 0) / 1000)} s)
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>{worker.cpuPercent === undefined ? '—' : `${Math.round(worker.cpuPercent)}%`}</td>
                  <td>{worker.rssMb === undefined ? '—' : `${worker.rssMb} MB`}</td>
                  <td>{when(worker.lastSeenAt)}</td>
                  <td>
                    <div class="actions">
                      {COMMANDS.map((name) => (
                        <button type="button" key={name} onClick={() => void command(worker.id, name)} aria-label={`${name} worker ${worker.id}`}>
                          {name}
                        </button>
                      ))}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {forbidden ? null : (
        <>
          <h2>Queues</h2>
          <QueueTable levels={queues} />
          <div class="page-head">
            <h2>Activity</h2>
            <label>
              Span{' '}
              <select
                value={span}
                onChange={(event) => {
                  newest.current = 0;
                  setSamples([]);
                  setSpan(event.currentTarget.value as SpanName);
                }}
              >
                {Object.keys(SPANS).map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <Charts samples={samples} />
        </>
      )}
      <ErrorGroups client={client} />
      <Tenants client={client} />
      <h2>Model usage</h2>
      {usage === undefined ? (
        <p>—</p>
      ) : (
        <p id="usage">
          {usage.totalTokens} tokens in {usage.calls} calls ({usage.cachedCalls} answered from cache)
          {usage.costUsd === undefined ? '' : `, ${usd(usage.costUsd)}`}
        </p>
      )}
    </Page>
  );
}
