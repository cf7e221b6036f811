import { TERMINAL_STATUSES, type JobDocumentView, type JobView, type ReamClient, type ReamEvent } from '@client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChunkMap } from '../components/ChunkMap.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { Downloads } from '../components/Downloads.tsx';
import { Reports } from '../components/Reports.tsx';
import { Bar, ErrorText, Page, Status } from '../components/common.tsx';
import { jobListRoute } from '../job-list-route.ts';
import { count, duration, isNotFound, messageOf, plural, usd, when } from '../format.ts';
import { documentRows, etaOf, foldEvents, mergeListing, pagesOf, type DocumentStates } from '../job-state.ts';
import { href, navigate } from '../router.ts';

type DocumentStatus = JobDocumentView['status'];
/** The documents the list can be narrowed to (the route's `documents`), and the statuses each one is. */
const DOCUMENT_FILTERS: ReadonlyMap<string, { label: string; statuses: readonly DocumentStatus[]; count: (job: JobView) => number }> = new Map([
  ['failed', { label: 'failed or partially succeeded', statuses: ['failed', 'partially_succeeded'], count: (job: JobView) => job.counts.documents.failed + job.counts.documents.partiallySucceeded }],
  ['unfinished', { label: 'queued or running', statuses: ['queued', 'running'], count: (job: JobView) => unfinishedOf(job) }],
  ['succeeded', { label: 'succeeded', statuses: ['succeeded'], count: (job: JobView) => job.counts.documents.succeeded }],
  ['cancelled', { label: 'cancelled', statuses: ['cancelled'], count: (job: JobView) => job.counts.documents.cancelled }],
]);

function unfinishedOf(job: JobView): number {
  const { total, succeeded, partiallySucceeded, failed, cancelled } = job.counts.documents;
  return Math.max(0, total - succeeded - partiallySucceeded - failed - cancelled);
}

/** Least time between two reads of the job's view while its events stream in. */
const VIEW_REFRESH_MS = 2000;
/**
 * How often the job's view and the first page of its documents are read again while it runs:
 * documents still queued send no event, and a job waiting on them sends none either. Pages read
 * further on (Show more) are kept current by the events.
 */
const POLL_MS = 3000;
/** Wait before a stopped event stream is followed again by itself. */
const RECONNECT_MS = 5000;
/** Documents per page of the list: the first page, then one more per Show more. */
const LIST_PAGE = 100;

/** A job, live: its progress over SSE (resuming after the last event seen), each document's bar and chunk map. */
export function Job({ client, jobId, documents: show }: { client: ReamClient; jobId: string; /** A key of DOCUMENT_FILTERS, or '' for every document. */ documents: string }) {
  const filter = DOCUMENT_FILTERS.get(show);
  /** The statuses listed, for the reads that outlive a render (the poll's). */
  const statuses = useRef<readonly DocumentStatus[] | undefined>(filter?.statuses);
  statuses.current = filter?.statuses;
  const [job, setJob] = useState<JobView | undefined>(undefined);
  const [documents, setDocuments] = useState<DocumentStates>(new Map());
  const [listed, setListed] = useState<JobDocumentView[]>([]);
  /** Whether the listing has documents past those read; `cursor` reads the next page of them. */
  const [more, setMore] = useState(false);
  const cursor = useRef<string | null>(null);
  /** Set once a page past the first was read: a fresh first page then no longer says where the list ends. */
  const extended = useRef(false);
  /** The ordinal of the last document Show more read. */
  const readTo = useRef(-1);
  /** Whether the listing was read once for the current filter (an empty narrowed list then says so). */
  const [listingRead, setListingRead] = useState(false);
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const [error, setError] = useState('');
  const [streamError, setStreamError] = useState('');
  /** Why the event stream is down while it reconnects by itself ('' while connected). */
  const [disconnected, setDisconnected] = useState('');
  const [follow, setFollow] = useState(0);
  const lastSeq = useRef(0);

  const readListing = async (signal?: AbortSignal): Promise<void> => {
    const asked = statuses.current;
    const page = await client.jobDocuments(jobId, { limit: LIST_PAGE, ...(asked === undefined ? {} : { status: asked }), ...(signal ? { signal } : {}) });
    if (asked !== statuses.current) return; // the filter changed meanwhile
    // A narrowed list whose first page now holds it whole, or reaches past what Show more read
    // (its documents moved on to other statuses): that page is the list again, and Show more
    // goes on from it (it kept what had left the list, and read again what the page holds).
    const last = page.items.at(-1);
    if (asked !== undefined && extended.current && (page.nextCursor === null || (last !== undefined && last.ordinal >= readTo.current))) extended.current = false;
    // A narrowed list read whole holds only what is of its statuses now: one that moved on goes.
    setListed((previous) => (asked !== undefined && page.nextCursor === null && !extended.current ? page.items : mergeListing(previous, page.items)));
    setListingRead(true);
    if (!extended.current) {
      cursor.current = page.nextCursor;
      setMore(page.nextCursor !== null);
    }
  };

  const readMore = async (): Promise<void> => {
    if (cursor.current === null) return;
    try {
      const asked = statuses.current;
      const page = await client.jobDocuments(jobId, { limit: LIST_PAGE, cursor: cursor.current, ...(asked === undefined ? {} : { status: asked }) });
      if (asked !== statuses.current) return;
      extended.current = true;
      readTo.current = page.items.at(-1)?.ordinal ?? readTo.current;
      cursor.current = page.nextCursor;
      setMore(page.nextCursor !== null);
      setListed((previous) => {
        const known = new Set(previous.map((doc) => doc.id));
        return [...previous, ...page.items.filter((doc) => !known.has(doc.id))];
      });
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const refresh = async (): Promise<void> => {
    try {
      setJob(await client.getJob(jobId));
      await readListing();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  useEffect(() => {
    void refresh();
  }, [client, jobId]);

  // Another filter: the list is read again from its start, of those statuses only.
  const firstFilter = useRef(true);
  useEffect(() => {
    if (firstFilter.current) {
      firstFilter.current = false;
      return;
    }
    extended.current = false;
    readTo.current = -1;
    cursor.current = null;
    setMore(false);
    setListed([]);
    setListingRead(false);
    readListing().catch((failure: unknown) => setError(messageOf(failure)));
  }, [show]);

  // Follows the events from the last one seen: a dropped stream resumes with Last-Event-ID.
  useEffect(() => {
    const abort = new AbortController();
    setStreamError('');
    let viewedAt = Date.now();
    // Events are shown a batch at a time: those that came together (a long job's replay is
    // thousands at once) are folded in one state change, once the stream's chunk is read, not
    // rendered one by one (which held the tab for a minute on a job of 1,000 documents).
    let pending: ReamEvent[] = [];
    let flushing: ReturnType<typeof setTimeout> | undefined;
    const flush = (): void => {
      clearTimeout(flushing);
      flushing = undefined;
      const batch = pending;
      pending = [];
      const last = batch.at(-1);
      if (last === undefined || abort.signal.aborted) return;
      setDocuments((previous) => foldEvents(previous, batch));
      setJob((previous) => (previous ? { ...previous, progress: last.progress } : previous));
    };
    void (async () => {
      try {
        const onConnection = (connected: boolean, failure?: Error): void => {
          if (!abort.signal.aborted) setDisconnected(connected ? '' : (failure === undefined ? 'the server closed the stream' : messageOf(failure)));
        };
        for await (const event of client.events(jobId, { afterSeq: lastSeq.current, signal: abort.signal, onConnection })) {
          lastSeq.current = event.seq;
          pending.push(event);
          flushing ??= setTimeout(flush, 0);
          // Tokens, cost and counts are in the job's view, not in events: read it again now and then.
          if (Date.now() - viewedAt > VIEW_REFRESH_MS) {
            viewedAt = Date.now();
            client.getJob(jobId, abort.signal).then((view) => setJob((previous) => ({ ...view, progress: previous?.progress ?? view.progress })), () => undefined);
          }
        }
        flush();
        setDisconnected('');
        await refresh();
      } catch (failure) {
        flush();
        setDisconnected('');
        // A job that does not exist is said once, by the page (no stream to reconnect to).
        if (!abort.signal.aborted && !isNotFound(failure)) setStreamError(`Live progress stopped: ${messageOf(failure)}`);
      }
    })();
    return () => {
      abort.abort();
      clearTimeout(flushing);
    };
  }, [client, jobId, follow]);

  const ended = job !== undefined && TERMINAL_STATUSES.has(job.status);
  /**
   * Whether documents may run past the listing: not before the job's view is read, for a replay
   * that comes first names documents that seem to run in a job that may have ended long ago.
   */
  const runs = job !== undefined && !ended;

  // A stream that stopped (the server restarting) is tried again by itself while the job runs.
  useEffect(() => {
    if (streamError === '' || ended) return;
    const timer = setTimeout(() => setFollow((n) => n + 1), RECONNECT_MS);
    return () => clearTimeout(timer);
  }, [streamError, ended]);

  // While the job runs: its view and its documents again every few seconds (one timer, no overlap).
  useEffect(() => {
    if (job === undefined || ended) return;
    const abort = new AbortController();
    const timer = setInterval(() => {
      void Promise.all([
        client.getJob(jobId, abort.signal).then((view) => setJob((previous) => ({ ...view, progress: previous?.progress ?? view.progress }))),
        readListing(abort.signal),
      ]).catch(() => undefined);
    }, POLL_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [client, jobId, job === undefined, ended]);

  // Names of the documents shown that the listing does not hold (running past the pages read so
  // far), once each: not of every document the events named (a replay names them all).
  useEffect(() => {
    const unnamed = documentRows(listed, documents, runs).filter((row) => row.name === '' && !names.has(row.id)).map((row) => row.id);
    if (unnamed.length === 0) return;
    setNames((previous) => new Map([...previous, ...unnamed.map((id) => [id, ''] as const)]));
    for (const id of unnamed) client.getDocument(id).then((view) => setNames((previous) => new Map(previous).set(id, view.name)), () => undefined);
  }, [documents, listed, runs]);

  // The button pressed is disabled or gone once it has acted: focus goes to the job's status,
  // which says what the action did, rather than to the page's body.
  const focusStatus = (): void => document.getElementById('job-status')?.focus();

  const act = async (action: 'cancel' | 'retry'): Promise<void> => {
    try {
      setJob(action === 'cancel' ? await client.cancel(jobId) : await client.retry(jobId));
      if (action === 'retry') setFollow((n) => n + 1);
      focusStatus();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const remove = async (): Promise<void> => {
    try {
      await client.deleteJob(jobId);
      navigate(jobListRoute()); // back to the list as it was left, filters and all
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const cancelDocument = async (documentId: string): Promise<void> => {
    try {
      setJob(await client.cancelDocument(jobId, documentId));
      await readListing(); // a queued document sends its end only as an event: show it at once
      focusStatus();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  // An ended job's replayed events name documents that seem to run: only the listed ones are shown.
  // Narrowed: only the listed ones (a running one past them is not known to be of the statuses).
  const rows = documentRows(listed, documents, runs && filter === undefined);
  const progress = job?.progress;

  return (
    <Page title={`Job ${jobId}`}>
      <ErrorText message={error} id="job-error" />
      {job === undefined && error === '' ? <p role="status">Loading the job…</p> : null}
      {job === undefined ? null : (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd id="job-status" tabIndex={-1}>
              <Status status={job.status} />
            </dd>
            <dt>Pipeline</dt>
            <dd>{job.pipeline}</dd>
            <dt>Created</dt>
            <dd>{when(job.createdAt)}</dd>
            {job.usage ? (
              <>
                <dt>Tokens</dt>
                <dd id="job-tokens">
                  {`${count(job.usage.totalTokens)} (${count(job.usage.promptTokens)} prompt, ${count(job.usage.completionTokens)} completion; ${plural(job.usage.calls, 'model call')})`}
                  {job.usage.costUsd === undefined ? '' : `, ${usd(job.usage.costUsd)}`}
                </dd>
              </>
            ) : null}
          </dl>
          {progress ? (
            <Bar label="Job progress" value={ended && job.status !== 'cancelled' ? 100 : progress.percent}>
              <span id="job-summary" aria-live="polite">
                {progress.pagesDone} of {progress.pagesTotal} pages, {progress.documentsDone} of {progress.documentsTotal} documents
                {!ended && progress.etaSeconds !== null ? `, about ${duration(progress.etaSeconds)} left` : ''}
              </span>
            </Bar>
          ) : null}
          {job.error ? <p class="error">{`${job.error.message} (${job.error.code})`}</p> : null}
          <div class="actions">
            <ConfirmButton
              label="Cancel job"
              question={`Cancel this job? Its ${plural((progress?.documentsTotal ?? 0) - (progress?.documentsDone ?? 0), 'document')} not done will not run; this cannot be undone.`}
              confirm="Yes, cancel the job"
              keep="No, let it run"
              disabled={ended}
              onConfirm={() => act('cancel')}
            />
            <button type="button" disabled={job.status !== 'failed' && job.status !== 'partially_succeeded'} onClick={() => void act('retry')}>
              Retry failed parts
            </button>
            <ConfirmButton
              label="Delete job"
              question={`Delete this job${ended ? '' : ' (it is cancelled first)'}, its results, reports and events? Its stored documents stay; this cannot be undone.`}
              confirm="Yes, delete the job"
              keep="No, keep it"
              onConfirm={remove}
            />
          </div>
          <Downloads client={client} jobId={jobId} disabled={(job.progress?.documentsDone ?? 0) === 0} />
          {ended ? <Reports client={client} jobId={jobId} /> : null}
        </>
      )}
      <ErrorText message={streamError} id="stream-error" />
      {disconnected === '' || streamError !== '' ? null : (
        <p class="error" id="connection-lost" role="status">
          {`Connection to the server lost (${disconnected}): not live, reconnecting…`}
        </p>
      )}
      {streamError === '' ? null : (
        <button type="button" onClick={() => setFollow((n) => n + 1)}>
          Reconnect
        </button>
      )}
      <h2>Documents</h2>
      {job === undefined ? null : (
        <p>
          <label for="document-filter">Show</label>{' '}
          <select id="document-filter" value={filter === undefined ? '' : show} onChange={(event) => navigate({ page: 'job', jobId, documents: event.currentTarget.value })}>
            <option value="">all documents ({job.counts.documents.total})</option>
            {[...DOCUMENT_FILTERS].map(([key, { label, count: countOf }]) => (
              <option value={key} key={key}>
                {label} ({countOf(job)})
              </option>
            ))}
          </select>
        </p>
      )}
      {filter !== undefined && listingRead && rows.length === 0 ? <p id="documents-empty">No document is {filter.label}.</p> : null}
      <ul class="documents">
        {rows.map((row) => {
          const { id, done, state, status } = row;
          const name = row.name === '' ? (names.get(id) ?? '') : row.name;
          const { pages, perSecond } = state ? pagesOf(state) : { pages: 0, perSecond: null };
          const total = row.pagesTotal;
          const eta = etaOf(pages, total, perSecond);
          return (
            <li key={id} data-document-id={id}>
              <div class="doc-head">
                {done ? (
                  <a href={href({ page: 'document', jobId, documentId: id })} class="name">
                    {name === '' ? id : name}
                  </a>
                ) : (
                  <span class="name">{name === '' ? id : name}</span>
                )}
                <Status status={status} />
                {done || ended || (status !== 'running' && status !== 'queued') ? null : (
                  <ConfirmButton
                    label={`Cancel ${name === '' ? id : name}`}
                    text="Cancel"
                    className="cancel-document"
                    question={`Cancel ${name === '' ? 'this document' : name}? Its pages not read will not be; the other documents go on. This cannot be undone.`}
                    confirm="Yes, cancel the document"
                    keep="No, let it run"
                    onConfirm={() => cancelDocument(id)}
                  />
                )}
              </div>
              <Bar label={`Progress of ${name === '' ? id : name}`} value={done ? 1 : total === null ? 0 : pages} max={done ? 1 : Math.max(1, total ?? 1)}>
                {done
                  ? plural(total ?? pages, 'page')
                  : status === 'queued'
                    ? 'waiting to start'
                    : `${pages}${total === null ? '' : ` of ${total}`} pages read${perSecond === null || perSecond === 0 ? '' : `, ${perSecond.toFixed(1)} pages/s`}${eta === null ? '' : `, about ${duration(eta)} left`}`}
              </Bar>
              {done && state === undefined ? null : <ChunkMap document={state} total={row.chunksTotal} name={name === '' ? id : name} />}
              {row.error === '' ? null : <p class="error">{row.error}</p>}
            </li>
          );
        })}
      </ul>
      {more ? (
        <p>
          <button type="button" id="more-documents" onClick={() => void readMore()}>
            Show more documents
          </button>{' '}
          {rows.length} of {job === undefined ? '?' : filter === undefined ? (job.progress?.documentsTotal ?? '?') : filter.count(job)} shown
        </p>
      ) : null}
    </Page>
  );
}
