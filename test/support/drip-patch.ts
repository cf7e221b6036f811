// A tus PATCH of an upload's whole body from offset 0, sent in ten parts over half a second, so that
// a request sent meanwhile (a DELETE, another PATCH) comes while the bytes do.

const PART = 100_000;
const PAUSE_MS = 50;

/**
 * Sends `bytes` to `url` as one dripping PATCH; answers its status (0 when the connection failed).
 * With `lastPartAfter`, the last part waits for it too: what a test sends meanwhile certainly
 * comes while the PATCH is still taking bytes, however slow the machine.
 */
export function dripPatch(url: string | URL, bytes: Buffer, headers: Record<string, string>, lastPartAfter?: Promise<unknown>): Promise<number> {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let i = 0; i < bytes.length; i += PART) {
        if (i + PART >= bytes.length) await lastPartAfter?.catch(() => undefined);
        controller.enqueue(bytes.subarray(i, i + PART));
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
      controller.close();
    },
  });
  return fetch(url, { method: 'PATCH', headers: { ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body, duplex: 'half' })
    .then((answer) => answer.status, () => 0);
}
