// HTTP service benchmark: job submissions per second (autocannon), SSE clients held on one job's
// event stream, and tus upload throughput with the server's memory alongside. The server runs in
// a child process (bench/http-server.ts) over a temporary data folder, auth off, 127.0.0.1 only;
// every phase is bounded in time and count. `node bench/http.ts` prints the section on its own.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { Upload } from 'tus-js-client';
import { makePdf, numberedPages } from '../test/support/make-pdf.ts';

const SUBMIT_SECONDS = 10;
const SUBMIT_CONNECTIONS = [10, 50] as const;
const SSE_CLIENTS = [200, 1000] as const;
/** Pages of the SSE job's PDF and pages per chunk: enough chunk events to keep the stream busy. */
const SSE_PAGES = 6000;
const SSE_CHUNK_PAGES = 10;
/** No SSE client waits longer than this for the terminal event. */
const SSE_TIMEOUT_MS = 60_000;
const UPLOAD_BYTES = 200 * 1024 * 1024;
const UPLOAD_TIMEOUT_MS = 90_000;
const MB = 1024 * 1024;

type ServerChild = ChildProcessByStdio<Writable, Readable, Readable>;

interface ServerHandle {
  url: string;
  child: ServerChild;
  /** Asks the server for its current and peak RSS, in bytes. */
  memory(): Promise<{ rss: number; maxRss: number }>;
  /** SIGTERM, then its peak RSS as it reports it on the way out. */
  stop(): Promise<number | undefined>;
}

async function startChild(dataDir: string): Promise<ServerHandle> {
  const child = spawn(process.execPath, [new URL('./http-server.ts', import.meta.url).pathname, dataDir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const waiters: Array<(line: string) => void> = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => waiters.shift()?.(line));
  const nextLine = (what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not answer (${what}) within 15 s: ${stderr}`)), 15_000);
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const first = JSON.parse(await nextLine('start')) as { url: string; pid: number };
  return {
    url: first.url,
    child,
    async memory() {
      const answer = nextLine('rss');
      child.stdin.write('rss\n');
      return JSON.parse(await answer) as { rss: number; maxRss: number };
    },
    async stop() {
      if (child.exitCode !== null) return undefined;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      const report = stderr
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"maxRss"'));
      return report === undefined ? undefined : (JSON.parse(report) as { maxRss: number }).maxRss;
    },
  };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const mib = (bytes: number): string => fmt(bytes / MB, 0);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

// ---------------------------------------------------------------------------------------------
// (c) tus upload of a 200 MB file, streamed from disk

async function writeBigFile(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('%PDF-1.7\n');
  let written = 9;
  while (written < UPLOAD_BYTES) {
    const chunk = randomBytes(Math.min(MB, UPLOAD_BYTES - written));
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface UploadFigures {
  seconds: number;
  rssBefore: number;
  peakRssSampled: number;
  maxRssAfter: number;
  status: string;
}

async function uploadBench(server: ServerHandle, path: string): Promise<UploadFigures> {
  const before = await server.memory();
  let peak = before.rss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await server.memory()).rss);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const started = performance.now();
  let uploadUrl: string | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const upload = new Upload(createReadStream(path), {
        endpoint: `${server.url}/v1/uploads`,
        metadata: { filename: 'big.pdf', filetype: 'application/pdf' },
        retryDelays: [],
        onSuccess: () => {
          clearTimeout(timer);
          uploadUrl = upload.url;
          resolve();
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      timer = setTimeout(() => {
        void upload.abort(false);
        reject(new Error(`upload not done within ${UPLOAD_TIMEOUT_MS} ms`));
      }, UPLOAD_TIMEOUT_MS);
      timer.unref();
      upload.start();
    });
  } finally {
    sampling = false;
    await sampler;
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await server.memory();
  let status = 'unknown';
  if (uploadUrl !== null) {
    const view = (await (await fetch(uploadUrl)).json()) as { status?: string };
    status = view.status ?? 'unknown';
  }
  return { seconds, rssBefore: before.rss, peakRssSampled: Math.max(peak, after.rss), maxRssAfter: after.maxRss, status };
}

// ---------------------------------------------------------------------------------------------
// (b) SSE fan-out: N plain http.get clients on one job's /events

const TERMINAL = new Set(['job.completed', 'job.failed', 'job.cancelled']);

interface SseClient {
  connectedAt?: number;
  terminalAt?: number;
  terminalEventAt?: number;
  terminalType?: string;
  events: number;
  error?: string;
  closedEarly: boolean;
}

function openSse(url: string, deadline: AbortSignal): { client: SseClient; done: Promise<void> } {
  const client: SseClient = { events: 0, closedEarly: false };
  const done = new Promise<void>((resolve) => {
    let request: ClientRequest | undefined = undefined;
    const finish = (): void => {
      deadline.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      client.error ??= 'timeout';
      request?.destroy();
    };
    deadline.addEventListener('abort', onAbort);
    request = get(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        client.error = `HTTP ${response.statusCode ?? '?'}`;
        response.resume();
        response.on('end', finish);
        return;
      }
      client.connectedAt = Date.now();
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (text: string) => {
        buffer += text;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
          const type = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (type === undefined || data === undefined) continue;
          client.events++;
          if (TERMINAL.has(type) && client.terminalAt === undefined) {
            client.terminalAt = Date.now();
            client.terminalType = type;
            client.terminalEventAt = (JSON.parse(data) as { at: number }).at;
          }
        }
      });
      response.on('close', () => {
        if (client.terminalAt === undefined) client.closedEarly = true;
        finish();
      });
    });
    request.on('error', (error) => {
      client.error ??= error.message;
      finish();
    });
  });
  return { client, done };
}

interface SseFigures {
  clients: number;
  connected: number;
  connectedBeforeEnd: number;
  gotTerminal: number;
  failed: number;
  terminalType: string;
  jobSeconds: number;
  connectSeconds: number;
  lagP50: number;
  lagMax: number;
}

async function sseBench(server: ServerHandle, pdf: Uint8Array, clients: number): Promise<SseFigures> {
  const body = new FormData();
  body.append('pipeline', 'extract');
  body.append('options', JSON.stringify({ chunkPages: SSE_CHUNK_PAGES }));
  body.append('file', new Blob([pdf], { type: 'application/pdf' }), 'long.pdf');
  const submitted = Date.now();
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  if (response.status !== 202) throw new Error(`SSE job: HTTP ${response.status} ${await response.text()}`);
  const job = (await response.json()) as { id: string };
  const deadline = AbortSignal.timeout(SSE_TIMEOUT_MS);
  const opened: Array<{ client: SseClient; done: Promise<void> }> = [];
  const connectStarted = Date.now();
  for (let i = 0; i < clients; i++) {
    opened.push(openSse(`${server.url}/v1/jobs/${job.id}/events`, deadline));
    // Let the event loop breathe every 50 connections so the connects interleave with reads.
    if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(opened.map((o) => o.done));
  const all = opened.map((o) => o.client);
  const lastConnect = Math.max(...all.map((c) => c.connectedAt ?? 0));
  const terminalEventAt = all.find((c) => c.terminalEventAt !== undefined)?.terminalEventAt ?? NaN;
  const lags = all.flatMap((c) => (c.terminalAt === undefined ? [] : [c.terminalAt - terminalEventAt]));
  return {
    clients,
    connected: all.filter((c) => c.connectedAt !== undefined).length,
    connectedBeforeEnd: all.filter((c) => c.connectedAt !== undefined && c.connectedAt <= terminalEventAt).length,
    gotTerminal: all.filter((c) => c.terminalAt !== undefined).length,
    failed: all.filter((c) => c.error !== undefined || c.closedEarly).length,
    terminalType: all.find((c) => c.terminalType !== undefined)?.terminalType ?? 'none',
    jobSeconds: (terminalEventAt - submitted) / 1000,
    connectSeconds: (lastConnect - connectStarted) / 1000,
    lagP50: percentile(lags, 50),
    lagMax: lags.length ? Math.max(...lags) : NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// (a) job submissions: autocannon POST /v1/jobs, a tiny multipart body

const BOUNDARY = 'ream-bench-boundary';
const SUBMIT_BODY = Buffer.from(
  [
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="pipeline"',
    '',
    'extract',
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="file"; filename="hello.txt"',
    'Content-Type: text/plain',
    '',
    'hello, ream\n',
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n'),
);

interface SubmitFigures {
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

async function submitBench(server: ServerHandle, connections: number): Promise<SubmitFigures> {
  const result = await autocannon({
    url: `${server.url}/v1/jobs`,
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: SUBMIT_BODY,
    connections,
    duration: SUBMIT_SECONDS,
    timeout: 10,
  });
  return {
    connections,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-http-'));
  const server = await startChild(join(dir, 'data'));
  try {
    // Upload first: the peak RSS the server reports is then the upload's, not the SSE phase's.
    const bigPath = join(dir, 'big.pdf');
    await writeBigFile(bigPath);
    process.stderr.write('bench http: tus upload…\n');
    const upload = await uploadBench(server, bigPath);
    await rm(bigPath, { force: true });

    const pdf = await makePdf({ pages: numberedPages('S', SSE_PAGES) });
    const sse: SseFigures[] = [];
    for (const clients of SSE_CLIENTS) {
      process.stderr.write(`bench http: SSE × ${clients}…\n`);
      sse.push(await sseBench(server, pdf, clients));
    }
    const afterSse = await server.memory();

    const submits: SubmitFigures[] = [];
    for (const connections of SUBMIT_CONNECTIONS) {
      process.stderr.write(`bench http: submissions × ${connections} connections…\n`);
      submits.push(await submitBench(server, connections));
    }
    const maxRss = (await server.stop()) ?? NaN;

    return [
      '## HTTP service',
      '',
      'ream serve (`startServer`, auth off, 2 worker threads) in a child process on 127.0.0.1, over a fresh data folder; ' +
        'the load generators run in the bench process. **Caveat: the machine has 2 cores shared by client and server**, ' +
        'and the submitted jobs are processed while the load runs, so these figures are a floor for the service, ' +
        'not its capacity, and compare only with runs on the same machine.',
      '',
      `### Job submissions (autocannon, ${SUBMIT_SECONDS} s each, multipart \`hello.txt\`, pipeline extract)`,
      '',
      '| connections | requests/s | p50 latency (ms) | p99 latency (ms) | requests | non-2xx | errors/timeouts |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...submits.map((s) => `| ${s.connections} | ${fmt(s.rps)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${s.total} | ${s.non2xx} | ${s.errors} |`),
      '',
      'The second row runs with the first row\'s jobs still being processed in the background.',
      '',
      `### SSE fan-out (one job, ${SSE_PAGES}-page PDF, chunkPages ${SSE_CHUNK_PAGES})`,
      '',
      '| clients | connected | connected before the job ended | got the terminal event | dropped/failed | job wall (s) | all connected after (s) | terminal lag p50 (ms) | terminal lag max (ms) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...sse.map(
        (s) =>
          `| ${s.clients} | ${s.connected} | ${s.connectedBeforeEnd} | ${s.gotTerminal} (${s.terminalType}) | ${s.failed} | ${fmt(s.jobSeconds, 1)} | ` +
          `${fmt(s.connectSeconds, 1)} | ${fmt(s.lagP50)} | ${fmt(s.lagMax)} |`,
      ),
      '',
      'Terminal lag: from the terminal event\'s timestamp (set by the server) to each client parsing it. ' +
        'Clients connecting after the job ended still get the whole stream replayed from seq 1.',
      '',
      '### tus upload (tus-js-client, one PATCH, streamed from disk)',
      '',
      '| file | time (s) | MB/s | server RSS before (MiB) | server RSS peak during (MiB, sampled every 200 ms) | server peak RSS so far (MiB) | upload status |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      `| ${mib(UPLOAD_BYTES)} MiB random, \`%PDF-1.7\` prefix | ${fmt(upload.seconds, 2)} | ${fmt(UPLOAD_BYTES / MB / upload.seconds)} | ` +
        `${mib(upload.rssBefore)} | ${mib(upload.peakRssSampled)} | ${mib(upload.maxRssAfter)} | ${upload.status} |`,
      '',
      `Server peak RSS over the whole run: ${mib(maxRss)} MiB (after the SSE phase: ${mib(afterSse.maxRss)} MiB).`,
    ].join('\n');
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.stdout.write(`${await run()}\n`);
}
