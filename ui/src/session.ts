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

/** A client of the server that served this page, as the holder of `key` (none: auth is off). */
export function clientFor(key: string | undefined): ReamClient {
  return new ReamClient({ baseUrl: window.location.origin, ...(key === undefined ? {} : { apiKey: key }) });
}
