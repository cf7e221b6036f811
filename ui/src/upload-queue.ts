// The New job page's files: each uploaded over tus as soon as it is picked (a few at a time), so
// the server can count its pages before the job is started. An upload cut short resumes (tus
// remembers it in localStorage), after a network drop as after a reload and the same file picked;
// one the server could not take for a while is tried again by itself.
import type { ReamClient } from '@client';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { NamedFile } from './folder-files.ts';
import { messageOf } from './format.ts';

/** Uploads at once: enough to fill the line, few enough that each one's progress moves. */
const PARALLEL_UPLOADS = 3;
/**
 * An upload the server could not take for a while (unreachable, restarting: 5xx, 429) is tried
 * again this often, this many times (two minutes), on top of tus's own few quick retries; it
 * resumes at the server's offset. Refusals (a 4xx: not a PDF, too large) are not retried.
 */
const AUTO_RETRY_MS = 5_000;
/** Files one job takes at most (`POST /v1/jobs`: `documents`, 1,000 ids): more are not uploaded for nothing. */
export const MAX_JOB_FILES = 1_000;
const AUTO_RETRIES = 24;

/** A failure that waiting may cure: no answer at all, or a server error or throttle (not a full quota: waiting does not empty it). */
function transient(failure: unknown): boolean {
  if ((failure as { code?: unknown }).code === 'quota_exceeded') return false;
  const status = (failure as { httpStatus?: unknown }).httpStatus;
  if (typeof status === 'number') return status >= 500 || status === 429;
  return (failure as { code?: unknown }).code === 'io_error';
}

export interface Picked {
  /** Stable while the list changes (a removal shifts indices). */
  key: number;
  file: File;
  /** The file's path inside a dropped or chosen folder, or its own name (the server keeps its last part as the document's name). */
  name: string;
  sent: number;
  state: 'waiting' | 'uploading' | 'stored' | 'failed';
  error: string;
  /** Automatic retries after transient failures so far. */
  retries: number;
  /** Failed because the server refused the file itself (a 4xx: not a format it reads, too large): trying again cannot help. */
  refused?: boolean;
  /** Set once stored. */
  documentId?: string;
}

export interface Uploads {
  picked: Picked[];
  /**
   * Adds the files not in the list already (same name, size and time), up to {@link MAX_JOB_FILES}
   * in the list; answers the names of those that were there, and how many were left out past it.
   */
  add: (files: readonly NamedFile[]) => { again: string[]; over: number };
  /** Drops a file from the job; one still uploading is stopped (the server keeps what it got, for a resume). */
  remove: (key: number) => void;
  /** Uploads a failed file again (resuming where it stopped). */
  retry: (key: number) => void;
}

export function useUploads(client: ReamClient): Uploads {
  const [picked, setPicked] = useState<Picked[]>([]);
  const nextKey = useRef(0);
  const running = useRef(new Map<number, AbortController>());
  const update = (key: number, change: Partial<Picked>): void =>
    setPicked((previous) => previous.map((item) => (item.key === key ? { ...item, ...change } : item)));

  useEffect(() => {
    const free = PARALLEL_UPLOADS - picked.filter((item) => item.state === 'uploading').length;
    const next = picked.filter((item) => item.state === 'waiting').slice(0, Math.max(0, free));
    if (next.length === 0) return;
    const starting = new Set(next.map((item) => item.key));
    setPicked((previous) => previous.map((item) => (starting.has(item.key) ? { ...item, state: 'uploading' as const, error: '' } : item)));
    for (const item of next) {
      const controller = new AbortController();
      running.current.set(item.key, controller);
      client
        .upload(item.file, { name: item.name, signal: controller.signal, onProgress: (sent) => update(item.key, { sent }) })
        .then(
          (stored) => update(item.key, { state: 'stored', sent: item.file.size, documentId: stored.documentId }),
          (failure: unknown) => {
            // Stopped by a removal: the item is gone, nothing to show.
            if (controller.signal.aborted) return;
            if (!transient(failure) || item.retries >= AUTO_RETRIES) {
              update(item.key, { state: 'failed', error: messageOf(failure), refused: !transient(failure) });
              return;
            }
            update(item.key, { state: 'failed', error: `${messageOf(failure)}; trying again in ${AUTO_RETRY_MS / 1000} s`, retries: item.retries + 1 });
            // Unless it was removed or retried by hand meanwhile.
            setTimeout(() => setPicked((previous) => previous.map((other) => (other.key === item.key && other.state === 'failed' ? { ...other, state: 'waiting' as const, error: '' } : other))), AUTO_RETRY_MS);
          },
        )
        .finally(() => running.current.delete(item.key));
    }
  }, [client, picked]);

  // Leaving the page stops what still uploads; picking the same files again resumes them.
  useEffect(() => () => running.current.forEach((controller) => controller.abort()), []);

  return {
    picked,
    add: (files) => {
      // The same file picked twice would be listed twice, and counted twice in the estimate,
      // while the job holds it once.
      const sameFile = (a: NamedFile, b: NamedFile): boolean => a.name === b.name && a.file.size === b.file.size && a.file.lastModified === b.file.lastModified;
      const fresh: NamedFile[] = [];
      const again: string[] = [];
      for (const named of files) {
        if (picked.some((item) => sameFile(item, named)) || fresh.some((other) => sameFile(other, named))) again.push(named.name);
        else fresh.push(named);
      }
      const room = Math.max(0, MAX_JOB_FILES - picked.length);
      const added = fresh.slice(0, room).map(({ file, name }) => ({ key: nextKey.current++, file, name, sent: 0, state: 'waiting' as const, error: '', retries: 0 }));
      setPicked((previous) => [...previous, ...added]);
      return { again, over: fresh.length - added.length };
    },
    remove: (key) => {
      running.current.get(key)?.abort();
      setPicked((previous) => previous.filter((item) => item.key !== key));
    },
    retry: (key) => {
      update(key, { state: 'waiting', error: '', retries: 0, refused: false });
    },
  };
}
