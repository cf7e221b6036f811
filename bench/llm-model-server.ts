// The fake model server of bench/llm.ts, in a process of its own: arrival times are stamped on
// an event loop that ream's work does not hold up, as a provider's would be. Protocol on stdio:
// it prints `ready <baseURL>`; `scale <n>` divides latencies by n; `dump` prints the arrival
// times (epoch ms) and pages of every request as one JSON line.
import { createInterface } from 'node:readline';
import { pagesIn, startFakeOpenAi } from '../test/support/openai-server.ts';
import { modelLatencyMs, seeded } from './seeded-random.ts';

const random = seeded(12);
let scale = 1;
const arrivals: number[] = [];
const latencies: number[] = [];
const server = await startFakeOpenAi((request) => {
  arrivals.push(performance.timeOrigin + performance.now()); // epoch ms: comparable with the bench's clock
  const delayMs = modelLatencyMs(random) / scale;
  latencies.push(delayMs);
  const system = request.body.messages[0]?.content ?? '';
  const summary = system.includes('summaries of consecutive parts') ? 'the book' : `pages ${pagesIn(request)[0]}…`;
  return { content: JSON.stringify({ summary }), delayMs, promptTokens: 5000, completionTokens: 50 };
});
process.stdout.write(`ready ${server.baseURL}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const [command, value] = line.trim().split(' ');
  if (command === 'scale') scale = Number(value);
  if (command === 'dump') process.stdout.write(`${JSON.stringify({ arrivals, latencies })}\n`);
}
await server.close();
