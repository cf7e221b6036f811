// SSE fan-out, sustained: N clients held on one job's /events for the whole of a job that runs
// for over 30 s. The job runs the bench server's `held` pipeline (bench/http-held-pipeline.ts):
// it is inspected and chunked at once, then waits on a gate. The bench connects every client,
// waits until each has parsed its first event, and only then opens the gate, so every client
// sees every chunk event live. Meanwhile the server's RSS and CPU are sampled.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { makePdf, numberedPages } from '../test/support/make-pdf.ts';
import type { ServerHandle, ServerStats } from './http-child.ts';
import { fmt, mib, percentileOfSorted } from './http-figures.ts';
import { busyPercent, machineCpuTicks, openFilesLimit } from './proc-stats.ts';
import { openSse, type Audience, type OpenedClient, type SseClient } from './http-sse-client.ts';

export const SSE_CLIENTS = [200, 1000] as const;
/** One page per chunk, 300 ms per page, 4 chunks at a time: ≈ 36 s, ≈ 13 chunk events/s. */
const SSE_PAGES = 480;
const SSE_CHUNK_PAGES = 1;
const SSE_MS_PER_PAGE = 300;
/** bench/http-server.ts runs 2 threads, so 4 tasks at once (ReamOptions.concurrency's default). */
const SERVER_CONCURRENCY = 4;
const IDEAL_CHUNK_PHASE_MS = (SSE_PAGES * SSE_MS_PER_PAGE) / SERVER_CONCURRENCY;
/** Clients are opened in bursts this big, the event loop turning between bursts. */
const CONNECT_BURST = 50;
const READY_TIMEOUT_MS = 30_000;
/** No client waits longer than this (from submit) for the terminal event. */
const HOLD_TIMEOUT_MS = 120_000;
const SAMPLE_MS = 1_000;

export interface SseFigures {
  clients: number;
  connected: number;
  /** Parsed their first event before the job's first chunk event was produced. */
  readyBeforeChunks: number;
  readySeconds: number;
  /** Received the terminal event, no error. */
  heldToEnd: number;
  /** Received every event of the job, seq 1 … terminal, gapless and in order. */
  complete: number;
  clientsWithSeqBreaks: number;
  dropped: string;
  jobEvents: number;
  terminalType: string;
  eventsPerClientMin: number;
  eventsPerClientMax: number;
  /** First chunk event → terminal event, server timestamps. */
  chunkPhaseSeconds: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  liveDeliveries: number;
  deliveriesPerSecond: number;
  rssBefore: number;
  rssHeld: number;
  rssPeak: number;
  /** Percent of one core: 200 is both cores. */
  serverCpuMean: number;
  serverCpuPeak: number;
  /** Server CPU time per delivered event, in µs: what one more client costs per event. */
  serverCpuPerDeliveryUs: number;
  /** Share of the time the server's main thread was busy (event-loop utilization), in %. */
  serverLoopMean: number;
  serverLoopPeak: number;
  clientCpuMean: number;
  /** Every process on the machine, ours and others' (the cores are shared). */
  machineCpuMean: number;
  serverOpenFilesLimit: string;
}

interface Sample extends ServerStats {
  at: number;
}

/** Samples the server's stats every SAMPLE_MS until `stop` is called. */
function sampler(server: ServerHandle): { stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push({ ...(await server.stats()), at: Date.now() });
      await sleep(SAMPLE_MS);
    }
    samples.push({ ...(await server.stats()), at: Date.now() });
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

const cpuPercent = (from: Sample, to: Sample): number => ((to.cpuUs - from.cpuUs) / 1000 / (to.at - from.at)) * 100;
const loopPercent = (from: Sample, to: Sample): number => {
  const active = to.loopActiveMs - from.loopActiveMs;
  return (active / (active + to.loopIdleMs - from.loopIdleMs)) * 100;
};

function dropReasons(clients: SseClient[]): string {
  const reasons = new Map<string, number>();
  for (const c of clients) {
    const reason = c.error ?? (c.closedEarly ? 'stream closed before the terminal event' : undefined);
    if (reason !== undefined) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const total = [...reasons.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return '0';
  return `${total} (${[...reasons].map(([reason, n]) => `${reason} ×${n}`).join(', ')})`;
}

async function submitHeldJob(server: ServerHandle, pdf: Uint8Array, gate: string): Promise<string> {
  const body = new FormData();
  body.append('pipeline', 'held');
  body.append('options', JSON.stringify({ gate, chunkPages: SSE_CHUNK_PAGES, msPerPage: SSE_MS_PER_PAGE }));
  body.append('file', new Blob([pdf], { type: 'application/pdf' }), 'long.pdf');
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  if (response.status !== 202) throw new Error(`SSE job: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

async function connectAll(url: string, clients: number, deadline: AbortSignal, audience: Audience): Promise<OpenedClient[]> {
  const opened: OpenedClient[] = [];
  for (let i = 0; i < clients; i++) {
    opened.push(openSse(url, deadline, audience));
    if (i % CONNECT_BURST === CONNECT_BURST - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.race([Promise.all(opened.map((o) => o.ready)), sleep(READY_TIMEOUT_MS)]);
  return opened;
}

export async function sseBench(server: ServerHandle, clients: number): Promise<SseFigures> {
  const pdf = await makePdf({ pages: numberedPages('S', SSE_PAGES) });
  const gate = `sse-${clients}-${Date.now()}`;
  const jobId = await submitHeldJob(server, pdf, gate);
  const deadline = AbortSignal.timeout(HOLD_TIMEOUT_MS);
  const audience: Audience = { liveFrom: Infinity, lags: [], firstChunkAt: Infinity };
  const before = await server.stats();

  const connectStarted = Date.now();
  const opened = await connectAll(`${server.url}/v1/jobs/${jobId}/events`, clients, deadline, audience);
  const readySeconds = (Date.now() - connectStarted) / 1000;
  const held = await server.stats();

  audience.liveFrom = Date.now();
  const clientCpu = process.cpuUsage();
  const machineCpu = await machineCpuTicks();
  const sampling = sampler(server);
  await server.open(gate);
  await Promise.all(opened.map((o) => o.done));
  const samples = await sampling.stop();
  const clientCpuUs = process.cpuUsage(clientCpu);
  const machineCpuMean = busyPercent(machineCpu, await machineCpuTicks(), availableParallelism());

  const all = opened.map((o) => o.client);
  const jobEvents = Math.max(0, ...all.map((c) => c.terminalSeq ?? 0));
  const lastDelivery = Math.max(...all.map((c) => c.terminalAt ?? 0));
  const terminalEventAt = all.find((c) => c.terminalEventAt !== undefined)?.terminalEventAt ?? NaN;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const pairs = samples.slice(1).map((to, i) => [samples[i] ?? to, to] as const);
  const liveDeliveries = audience.lags.length;
  const lags = audience.lags.sort((a, b) => a - b);
  const events = all.map((c) => c.events);
  return {
    clients,
    connected: all.filter((c) => c.connectedAt !== undefined).length,
    readyBeforeChunks: all.filter((c) => c.firstEventAt !== undefined && c.firstEventAt < audience.firstChunkAt).length,
    readySeconds,
    heldToEnd: all.filter((c) => c.terminalAt !== undefined && c.error === undefined).length,
    complete: all.filter((c) => c.seqBreaks === 0 && c.terminalSeq === jobEvents && c.events === jobEvents).length,
    clientsWithSeqBreaks: all.filter((c) => c.seqBreaks > 0).length,
    dropped: dropReasons(all),
    jobEvents,
    terminalType: all.find((c) => c.terminalType !== undefined)?.terminalType ?? 'none',
    eventsPerClientMin: Math.min(...events),
    eventsPerClientMax: Math.max(...events),
    chunkPhaseSeconds: (terminalEventAt - audience.firstChunkAt) / 1000,
    lagP50: percentileOfSorted(lags, 50),
    lagP99: percentileOfSorted(lags, 99),
    lagMax: lags.at(-1) ?? NaN,
    liveDeliveries,
    deliveriesPerSecond: liveDeliveries / ((lastDelivery - audience.liveFrom) / 1000),
    rssBefore: before.rss,
    rssHeld: held.rss,
    rssPeak: Math.max(held.rss, ...samples.map((s) => s.rss)),
    serverCpuMean: first && last ? cpuPercent(first, last) : NaN,
    serverCpuPeak: Math.max(...pairs.map(([from, to]) => cpuPercent(from, to))),
    serverCpuPerDeliveryUs: first && last ? (last.cpuUs - first.cpuUs) / liveDeliveries : NaN,
    serverLoopMean: first && last ? loopPercent(first, last) : NaN,
    serverLoopPeak: Math.max(...pairs.map(([from, to]) => loopPercent(from, to))),
    clientCpuMean: ((clientCpuUs.user + clientCpuUs.system) / 1000 / (lastDelivery - audience.liveFrom)) * 100,
    machineCpuMean,
    serverOpenFilesLimit: (await openFilesLimit(server.pid)) ?? 'n/a',
  };
}

const range = (min: number, max: number): string => (min === max ? String(min) : `${min}–${max}`);

export function sseSection(figures: SseFigures[]): string[] {
  return [
    `### SSE fan-out, sustained (one job held open for every client: ${SSE_PAGES} pages, one per chunk, ${SSE_MS_PER_PAGE} ms per page)`,
    '',
    `The job runs a pipeline that waits \`msPerPage\` per page (like a remote model call), ${SERVER_CONCURRENCY} chunks at a time. ` +
      'Its chunks wait on a gate until every client has connected and parsed its first event (the replay of the ' +
      'job\'s first events); then the gate opens and the job produces its chunk events live. The clients are plain ' +
      '`node:http` GETs, one connection each, all in the bench process; the server is the child process. ' +
      `With nothing else running, the chunk phase takes ${fmt(IDEAL_CHUNK_PHASE_MS / 1000)} s ` +
      `(pages × ms per page ÷ ${SERVER_CONCURRENCY} chunks at a time); longer means the job itself was slowed.`,
    '',
    '| clients | connected | first event before the first chunk | all connected in (s) | held to the end | got every event, gapless seq 1…n | dropped | events per client | chunk phase (s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    ...figures.map(
      (s) =>
        `| ${s.clients} | ${s.connected} | ${s.readyBeforeChunks} | ${fmt(s.readySeconds, 1)} | ${s.heldToEnd} (${s.terminalType}) | ` +
        `${s.complete} (n = ${s.jobEvents}; ${s.clientsWithSeqBreaks} with a seq break) | ${s.dropped} | ` +
        `${range(s.eventsPerClientMin, s.eventsPerClientMax)} | ${fmt(s.chunkPhaseSeconds, 1)} |`,
    ),
    '',
    '| clients | lag p50 (ms) | lag p99 (ms) | lag max (ms) | events delivered live | delivered/s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (s) =>
        `| ${s.clients} | ${fmt(s.lagP50)} | ${fmt(s.lagP99)} | ${fmt(s.lagMax)} | ${s.liveDeliveries} | ${fmt(s.deliveriesPerSecond)} |`,
    ),
    '',
    'Lag: from the event\'s `at` (stamped by the server before it stores and publishes the event) to the client ' +
      'parsing it, for every event produced after all clients were connected and every client. It includes the ' +
      'store write and the client process\'s own queueing.',
    '',
    '| clients | server RSS idle → all connected → peak (MiB) | server CPU mean / peak 1 s | server CPU per delivered event (µs) | server main thread busy mean / peak 1 s | client process CPU | whole machine CPU |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (s) =>
        `| ${s.clients} | ${mib(s.rssBefore)} → ${mib(s.rssHeld)} → ${mib(s.rssPeak)} | ${fmt(s.serverCpuMean)}% / ${fmt(s.serverCpuPeak)}% | ` +
        `${fmt(s.serverCpuPerDeliveryUs)} | ${fmt(s.serverLoopMean)}% / ${fmt(s.serverLoopPeak)}% | ${fmt(s.clientCpuMean)}% | ${fmt(s.machineCpuMean)}% |`,
    ),
    '',
    `Sampled every ${SAMPLE_MS / 1000} s from the gate opening to the last terminal event. CPU is in % of one core ` +
      '(200% = both cores busy); the server\'s counts all its threads; "whole machine" counts every process, other ' +
      'work on the machine included. CPU per delivered event includes the job\'s own work (reading pages, storing ' +
      'results), so it falls as clients are added. Main thread busy: the server\'s event-loop utilization (it counts ' +
      'time the thread was ready but waiting for a core). ' +
      `Server open-files limit (soft): ${figures[0]?.serverOpenFilesLimit ?? 'n/a'}, not raised: each client holds one descriptor.`,
  ];
}
