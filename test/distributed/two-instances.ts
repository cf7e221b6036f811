import { startCluster, type Cluster } from '../support/cluster.ts';

// Shared by instances.test.ts and instances-cancel.test.ts (two files, so that the two cluster
// cases run side by side rather than one after the other).

export interface WorkerView {
  pid: number;
  inFlight: number;
}

export async function workers(url: string): Promise<WorkerView[]> {
  const response = await fetch(`${url}/v1/workers`);
  return ((await response.json()) as { items: WorkerView[] }).items;
}

/** Two server instances (no work) and two workers of one deployment. */
export async function withTwoInstances(run: (cluster: Cluster, a: string, b: string) => Promise<void>): Promise<void> {
  const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '2', '--threads', '1', '--lease', '5'] });
  try {
    const second = await cluster.startServer();
    await run(cluster, cluster.server.url, second.url);
  } finally {
    await cluster.stop();
  }
}
