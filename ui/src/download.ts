import type { ReamClient } from '@client';

/**
 * Saves the file at `path` (a download or artifact route) by navigating to it: the browser
 * streams it to disk, however big, instead of the tab holding it. A navigation cannot carry
 * `Authorization`, and the key must never be in a URL, so the URL carries a single-use ticket
 * bound to this path (`POST /v1/download-tickets`); the server names the file (`Content-Disposition`).
 */
export async function saveFile(client: ReamClient, path: string): Promise<void> {
  const { url } = await client.downloadUrl(path);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = '';
  anchor.hidden = true;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}
