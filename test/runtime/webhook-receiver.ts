import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobView } from '../../src/runtime/job-view.ts';

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  id: string;
  event: string;
  job: JobView;
}

/** What the receiver does with the n-th request (1-based): answer a status, or drop the connection unanswered. */
export type Answer = (n: number, delivery: Delivery) => number | 'drop' | Promise<number | 'drop'>;

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Resolves once `count` requests have arrived (and been answered). */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records every request and answers as `answer` says. */
export async function startReceiver(answer: Answer): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      const parsed = JSON.parse(body) as { id: string; event: string; job: JobView };
      const delivery: Delivery = { headers: request.headers, body, id: parsed.id, event: parsed.event, job: parsed.job };
      deliveries.push(delivery);
      void Promise.resolve(answer(deliveries.length, delivery)).then((status) => {
        if (status === 'drop') request.socket.destroy();
        else {
          response.statusCode = status;
          response.end();
        }
        for (const waiter of waiters.filter((w) => deliveries.length >= w.count)) waiter.resolve();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    received: (count) => new Promise<void>((resolve) => {
      if (deliveries.length >= count) resolve();
      else waiters.push({ count, resolve });
    }),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
