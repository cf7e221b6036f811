import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of a service (Redis, PostgreSQL), to make the service
 * stop answering without stopping it (other tests share it): `hang()` stops forwarding bytes
 * either way, and holds connections made meanwhile without reaching the service (so they take
 * none of its connection slots); `pass()` forwards again, the held bytes and connections first.
 */
export interface TcpProxy {
  /** `url` with its host and port replaced by the proxy's (its path, user and database kept). */
  url(of: string): string;
  hang(): void;
  pass(): void;
  /** Bytes the clients have sent through the proxy so far. */
  bytesIn(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let hanging = false;
  let bytesIn = 0;
  const pairs = new Set<[Socket, Socket]>();
  const held = new Set<Socket>();
  const link = (client: Socket): void => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => (bytesIn += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const socket of pair) socket.on('error', end).on('close', end);
  };
  const server = createServer((client) => {
    if (!hanging) return link(client);
    client.pause();
    held.add(client);
    client.on('error', () => held.delete(client)).on('close', () => held.delete(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url(of) {
      const url = new URL(of);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    hang() {
      hanging = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream).pause();
        upstream.unpipe(client).pause();
      }
    },
    pass() {
      if (!hanging) return; // piped once only: twice would send every byte twice
      hanging = false;
      for (const [client, upstream] of pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
      for (const client of held) link(client);
      held.clear();
    },
    bytesIn: () => bytesIn,
    async close() {
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      for (const client of held) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
