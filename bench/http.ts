// HTTP service benchmark: job submissions per second (autocannon), SSE clients held on one job's
// event stream for the whole job (bench/http-sse.ts), and tus upload throughput with the
// server's memory alongside. The server runs in
// a child process (bench/http-server.ts) over a temporary data folder, auth off, 127.0.0.1 only;
// every phase is bounded in time and count. `node bench/http.ts` prints the section on its own.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { Upload } from 'tus-js-client';
import { startChild, type ServerHandle } from './http-child.ts';
import { fmt, mib } from './http-figures.ts';
import { SSE_CLIENTS, sseBench, sseSection, type SseFigures } from './http-sse.ts';

const SUBMIT_SECONDS = 10;
const SUBMIT_CONNECTIONS = [10, 50] as const;
const UPLOAD_BYTES = 200 * 1024 * 1024;
const UPLOAD_TIMEOUT_MS = 90_000;
const MB = 1024 * 1024;

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
  const before = await server.stats();
  let peak = before.rss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await server.stats()).rss);
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
  const after = await server.stats();
  let status = 'unknown';
  if (uploadUrl !== null) {
    const view = (await (await fetch(uploadUrl)).json()) as { status?: string };
    status = view.status ?? 'unknown';
  }
  return { seconds, rssBefore: before.rss, peakRssSampled: Math.max(peak, after.rss), maxRssAfter: after.maxRss, status };
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

    const sse: SseFigures[] = [];
    for (const clients of SSE_CLIENTS) {
      process.stderr.write(`bench http: SSE × ${clients}, held for a whole job…\n`);
      sse.push(await sseBench(server, clients));
    }
    const afterSse = await server.stats();

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
      ...sseSection(sse),
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
