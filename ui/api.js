/* global fetch, localStorage, Headers, TextDecoder, setTimeout, clearTimeout */
// The dashboard's access to the v1 API: the API key, requests, problem documents, and SSE
// read with fetch() (EventSource cannot send an Authorization header).

const KEY_STORAGE = 'ream.apiKey';
/** Wait before reconnecting a dropped event stream, in ms (grows to RECONNECT_MAX_MS). */
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 10_000;

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key) {
  if (key === '') localStorage.removeItem(KEY_STORAGE);
  else localStorage.setItem(KEY_STORAGE, key);
}

/** Headers for an API request: the stored key as a bearer token, if any. */
export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const key = apiKey();
  if (key !== '') headers.Authorization = `Bearer ${key}`;
  return headers;
}

/** A failed request: `code` is ream's stable error code (or `network`), `status` the HTTP status. */
export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const problem = JSON.parse(text);
    return new ApiError(problem.detail ?? problem.title ?? text, problem.code ?? 'internal', response.status);
  } catch {
    return new ApiError(text || `HTTP ${response.status}`, 'internal', response.status);
  }
}

/** Calls the API; answers the response, or throws an {@link ApiError} for any non-2xx answer. */
export async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { ...init, headers: new Headers(authHeaders(init.headers)) });
  } catch (error) {
    throw new ApiError(`cannot reach the server: ${error.message}`, 'network', 0);
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

export async function apiJson(path, init = {}) {
  return (await api(path, init)).json();
}

/**
 * Feeds server-sent events from `reader` to `onEvent({ id, event, data })`, keeping the last
 * `id:` seen in `state.lastId` (even if the stream then breaks), so a reconnect resumes after it.
 */
async function readFrames(reader, state, onEvent) {
  const decoder = new TextDecoder();
  let buffer = '';
  let frame = { id: undefined, event: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        // A blank line ends the frame: dispatch it if it carried data (comments carry none).
        if (frame.id !== undefined) state.lastId = frame.id;
        if (frame.data.length > 0) onEvent({ id: frame.id, event: frame.event, data: frame.data.join('\n') });
        frame = { id: undefined, event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') frame.data.push(value);
    }
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * Follows `path` (an SSE endpoint) until `isDone(event)` or `signal` aborts; a dropped stream
 * reconnects with `Last-Event-ID`, so no event is lost or repeated. An API error (401, 404) ends it.
 */
export async function followEvents(path, { signal, onEvent, isDone, onError }) {
  const state = { lastId: undefined };
  let wait = RECONNECT_MS;
  let finished = false;
  const handle = (event) => {
    onEvent(event);
    if (isDone(event)) finished = true;
  };
  while (!signal.aborted && !finished) {
    try {
      const headers = { Accept: 'text/event-stream', ...(state.lastId === undefined ? {} : { 'Last-Event-ID': state.lastId }) };
      const response = await api(path, { headers, signal });
      wait = RECONNECT_MS;
      await readFrames(response.body.getReader(), state, handle);
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.code !== 'network') {
        onError(error);
        return;
      }
    }
    if (!finished && !signal.aborted) {
      await sleep(wait, signal);
      wait = Math.min(wait * 2, RECONNECT_MAX_MS);
    }
  }
}
