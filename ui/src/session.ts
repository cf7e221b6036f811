// The signed-in session: the API key lives in this tab's sessionStorage only (never in a URL,
// never in localStorage), survives a reload, and is gone on logout or when the tab closes.
import { ReamClient } from '@client';

const KEY_STORAGE = 'ream.apiKey';

export function storedKey(): string | undefined {
  return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
}

export function storeKey(key: string | undefined): void {
  if (key === undefined) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/**
 * A client of the server that served this page, as the holder of `key` (none: auth is off).
 * `onRefused` is called when the server refuses the key (401) on any request: a key revoked
 * or a token expired while the tab was open, or a key now needed where none was.
 */
export function clientFor(key: string | undefined, onRefused?: () => void): ReamClient {
  // Without a key too: a server that answered without one (auth off, or a first request that
  // failed before it could refuse) and then refuses sends the tab to sign in.
  const refusing = onRefused === undefined ? {} : {
    fetch: async (input: string, init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      if (response.status === 401) onRefused();
      return response;
    },
  };
  // The folder the console was loaded from: the API is beside it, at / or under a proxy's prefix (/ream/).
  return new ReamClient({ baseUrl: new URL('.', window.location.href).href, ...(key === undefined ? {} : { apiKey: key }), ...refusing });
}
