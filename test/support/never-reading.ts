// A client that asks for a download and then stops reading: what the server's unread-response
// cut is for (src/server/unread-responses.ts).
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface NeverReading {
  socket: Socket;
  /** The answer's status line and headers, as they came. */
  head: () => string;
  /** Bytes read so far, headers included. */
  received: () => number;
}

/** A GET of `path` on a raw socket to 127.0.0.1:`port` that reads the answer's headers, then nothing more (paused). */
export async function neverReading(port: number, path: string): Promise<NeverReading> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  let received = 0;
  let head = '';
  socket.on('data', (data: Buffer) => {
    received += data.length;
    if (!head.includes('\r\n\r\n')) head += data.toString('latin1');
  });
  while (!head.includes('\r\n\r\n')) await new Promise((resolve) => setTimeout(resolve, 10));
  socket.pause();
  return { socket, head: () => head, received: () => received };
}
