import type { ReamClient, UsageView, WorkerView } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { Chart } from '../components/Chart.tsx';
import { ErrorText, Page } from '../components/common.tsx';
import { isForbidden, messageOf, when } from '../format.ts';
import { parseMetrics, rates, type Sample } from '../metrics.ts';

const REFRESH_MS = 3000;
const COMMANDS = ['pause', 'resume', 'drain'] as const;
/** Samples kept for the charts: six minutes at one every {@link REFRESH_MS}. */
const SAMPLES = 120;

/** The server's counters over time, sampled while the page is open (see docs/dashboard.md). */
function Charts({ samples }: { samples: readonly Sample[] }) {
  if (samples.length < 2) return <p>Charts start with the second sample, {REFRESH_MS / 1000} s after the first.</p>;
  const times = samples.slice(1).map((sample) => sample.at);
  const gauge = (key: string): number[] => samples.slice(1).map((sample) => sample.values.get(key) ?? 0);
  return (
    <div class="charts">
      <Chart
        title="Throughput"
        unit="per second"
        times={times}
        series={[
          { label: 'pages', values: rates(samples, 'ream_pages_processed_total'), color: '#2f7de1' },
          { label: 'chunks', values: rates(samples, 'ream_chunks_processed_total'), color: '#16a34a' },
        ]}
      />
      <Chart
        title="Failures"
        unit="per second"
        times={times}
        series={[
          { label: 'chunks failed', values: rates(samples, 'ream_chunks_processed_total{outcome="failed"}'), color: '#dc2626' },
          { label: 'documents failed', values: rates(samples, 'ream_documents_processed_total{outcome="failed"}'), color: '#b45309' },
        ]}
      />
      <Chart
        title="Queue"
        unit="tasks"
        times={times}
        series={[
          { label: 'queued', values: gauge('ream_queue_tasks{status="queued"}'), color: '#7c3aed' },
          { label: 'leased', values: gauge('ream_queue_tasks{status="leased"}'), color: '#0891b2' },
        ]}
      />
    </div>
  );
}

/** Admin: the worker processes (with their tasks in flight) and pause/resume/drain; the tenant's model usage. */
export function Operate({ client }: { client: ReamClient }) {
  const [workers, setWorkers] = useState<WorkerView[] | undefined>(undefined);
  const [usage, setUsage] = useState<UsageView | undefined>(undefined);
  const [error, setError] = useState('');
  const [forbidden, setForbidden] = useState(false);
  const [samples, setSamples] = useState<Sample[]>([]);

  const load = async (): Promise<void> => {
    try {
      setWorkers(await client.workers());
      const values = parseMetrics(await client.metricsText());
      setSamples((previous) => [...previous.slice(-(SAMPLES - 1)), { at: Date.now() / 1000, values }]);
      setError('');
    } catch (failure) {
      if (isForbidden(failure)) setForbidden(true);
      else setError(messageOf(failure));
    }
  };

  useEffect(() => {
    void load();
    client.usage().then((answer) => setUsage(answer.usage), () => undefined);
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [client]);

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
                    {worker.command === undefined ? '' : `, asked to ${worker.command}`}
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
          <h2>Activity</h2>
          <Charts samples={samples} />
        </>
      )}
      <h2>Model usage</h2>
      {usage === undefined ? (
        <p>—</p>
      ) : (
        <p id="usage">
          {usage.totalTokens} tokens in {usage.calls} calls ({usage.cachedCalls} answered from cache)
          {usage.costUsd === undefined ? '' : `, $${usage.costUsd.toFixed(4)}`}
        </p>
      )}
    </Page>
  );
}
