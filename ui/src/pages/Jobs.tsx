import { TERMINAL_STATUSES, type JobStatus, type JobView, type ReamClient } from '@client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ErrorText, Page, Status } from '../components/common.tsx';
import { count, messageOf, when } from '../format.ts';
import { rememberJobList } from '../job-list-route.ts';
import { href, navigate } from '../router.ts';
import { useVirtualList } from '../virtual.ts';

const PAGE_SIZE = 100;
const ROW_HEIGHT = 44;
const REFRESH_MS = 5000;
/** Pages a refresh reads at most to reach the listed jobs; past them the list starts over. */
const CATCH_UP_PAGES = 10;
/** The most jobs `GET /v1/jobs` answers in one page. */
const LIST_LIMIT_MAX = 500;
const STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled'];

/** Searches typed settle this long before the list is read for them. */
const SEARCH_SETTLE_MS = 300;

/**
 * Whether a listed job lies past the jobs a page read (its last one included, as ties go by id):
 * one that does not, yet is not among them, no longer matches the filter (or was deleted).
 */
function pastPage(items: readonly JobView[], nextCursor: string | null, oldestFirst: boolean): (job: JobView) => boolean {
  if (nextCursor === null) return () => false;
  const times = items.map((job) => Date.parse(job.createdAt));
  const edge = oldestFirst ? Math.max(...times) : Math.min(...times);
  return (job) => (oldestFirst ? Date.parse(job.createdAt) >= edge : Date.parse(job.createdAt) <= edge);
}

/**
 * The list once the page read after the job `after` came back: the jobs it holds are as they
 * are now, and one listed below `after` that is not past that page but not among it goes.
 */
function mergeBelow(listed: JobView[], after: string, items: readonly JobView[], nextCursor: string | null, oldestFirst: boolean): JobView[] {
  const start = listed.findIndex((job) => job.id === after);
  if (start < 0) return listed;
  const read = new Map(items.map((job) => [job.id, job]));
  const past = pastPage(items, nextCursor, oldestFirst);
  const rest = listed.slice(start + 1).flatMap((job) => read.get(job.id) ?? (past(job) ? [job] : []));
  return [...listed.slice(0, start + 1), ...rest];
}

/**
 * `250 jobs` once all are listed; before, `100 of 250 jobs` (`100 of 10,000+ jobs` past the
 * server's count cap), or `100+ jobs` while the total is not known.
 */
function countText(listed: number, more: boolean, total: { count: number; exact: boolean } | undefined): string {
  if (listed === 0) return '';
  if (!more) return `${count(listed)} ${listed === 1 ? 'job' : 'jobs'}`;
  if (total === undefined || (total.exact && total.count <= listed)) return `${count(listed)}+ jobs`;
  return `${count(listed)} of ${count(total.count)}${total.exact ? '' : '+'} jobs`;
}

/** The server counts a list up to this many jobs (`JOB_TOTAL_CAP`): past it the total is `10,000+`. */
const TOTAL_CAP = 10_000;

/**
 * Refreshes between two counts of the total (30 s): in between it is moved by what the head of
 * the list shows, which misses jobs deleted further down and, oldest first, the new ones at its end.
 */
const RECOUNT_REFRESHES = 6;
/** Statuses a job leaves anywhere in the list, unseen below its head: such a list is counted on every refresh. */
const PASSING_STATUSES: ReadonlySet<string> = new Set(['queued', 'running']);

/** A counted total moved by the jobs seen to come and go since: past the cap, no longer exact. */
function movedTotal(count: number): { count: number; exact: boolean } {
  return count > TOTAL_CAP ? { count: TOTAL_CAP, exact: false } : { count: Math.max(0, count), exact: true };
}

interface JobsProps {
  client: ReamClient;
  status: string;
  /** Admins: whose jobs ('' their own, '*' every tenant's). */
  tenant: string;
  /** The search: an id's beginning or part of a pipeline's name. */
  q: string;
  /** `created`: oldest first; anything else newest first. */
  sort: string;
}

/** The tenant's jobs, newest (or oldest) first, fetched a page (cursor) at a time as the list scrolls. */
export function Jobs({ client, status: statusInRoute, tenant, q, sort }: JobsProps) {
  // The filters live in the route (`#/jobs?status=…&tenant=…&q=…&sort=…`): a reload, Back or a link keeps them.
  const status = (STATUSES as string[]).includes(statusInRoute) ? (statusInRoute as JobStatus) : '';
  const oldestFirst = sort === 'created';
  const route = { page: 'jobs', status, tenant, q, sort: oldestFirst ? 'created' : '' } as const;
  const routeLink = href(route);
  useEffect(() => rememberJobList(route), [routeLink]);
  const setStatus = (next: JobStatus | ''): void => navigate({ ...route, status: next });
  const setTenant = (next: string): void => navigate({ ...route, tenant: next });
  const setOldestFirst = (next: boolean): void => navigate({ ...route, sort: next ? 'created' : '' });
  // What is typed shows at once; the list (and the link) follow once typing settles.
  const [typed, setTyped] = useState(q);
  /** The search this box last put in the link: its coming back must not undo keys typed since. */
  const sent = useRef(q);
  const sendSearch = (text: string): void => {
    sent.current = text.trim();
    navigate({ ...route, q: sent.current }, { replace: true });
  };
  // A search the box did not send (Back, a link) shows in it.
  useEffect(() => {
    if (q !== sent.current) setTyped(q);
    sent.current = q;
  }, [q]);
  useEffect(() => {
    if (typed.trim() === q.trim()) return undefined;
    const timer = setTimeout(() => sendSearch(typed), SEARCH_SETTLE_MS);
    return () => clearTimeout(timer);
  }, [typed, routeLink]);
  const [tenants, setTenants] = useState<string[] | undefined>(undefined);
  const [jobs, setJobs] = useState<JobView[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  /** How many jobs the list holds, as its first page last said (counted up to a cap). */
  const [total, setTotal] = useState<{ count: number; exact: boolean } | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState('');
  /** The page being fetched, tagged with the filter it is for: an answer for an older filter is dropped. */
  const loading = useRef<{ filter: string } | undefined>(undefined);
  /** The server's cursor after each job that ended a page read: rows further down are read again from there. */
  const cursorAfter = useRef(new Map<string, string>());
  const { scrollRef, virtualizer, layoutHeight, layoutStart } = useVirtualList(jobs.length, ROW_HEIGHT);

  // Admins get a tenant picker, offering the tenants with an account to begin with.
  useEffect(() => {
    client
      .me()
      .then(async ({ role }) => (role === 'admin' ? setTenants((await client.tenants()).map((account) => account.tenantId)) : setTenants(undefined)))
      .catch(() => setTenants(undefined));
  }, [client]);

  const remember = (items: readonly JobView[], next: string | null): void => {
    const last = items.at(-1);
    if (last !== undefined && next !== null) cursorAfter.current.set(last.id, next);
  };
  const search = q.trim();
  const filter = {
    ...(status === '' ? {} : { status }),
    ...(tenant === '' ? {} : { tenant }),
    ...(search === '' ? {} : { q: search }),
    ...(oldestFirst ? { sort: 'created' as const } : {}),
  };
  const filterKey = JSON.stringify(filter);
  const loadMore = useCallback(async (after: string | undefined, replace: boolean) => {
    if (loading.current?.filter === filterKey) return;
    const mine = { filter: filterKey };
    loading.current = mine;
    try {
      const page = await client.listJobs({ ...filter, limit: PAGE_SIZE, ...(after === undefined ? { total: true } : { cursor: after }) });
      if (loading.current !== mine) return;
      if (page.total !== undefined) setTotal(page.total);
      if (replace) cursorAfter.current = new Map();
      remember(page.items, page.nextCursor);
      setJobs((previous) => (replace ? page.items : [...previous, ...page.items]));
      setCursor(page.nextCursor);
      setError('');
    } catch (failure) {
      if (loading.current === mine) setError(messageOf(failure));
    } finally {
      if (loading.current === mine) {
        loading.current = undefined;
        setLoaded(true);
      }
    }
  }, [client, filterKey]);

  useEffect(() => {
    cursorAfter.current = new Map();
    setJobs([]);
    setCursor(undefined);
    setTotal(undefined);
    void loadMore(undefined, true);
  }, [loadMore]);

  // New jobs and status changes at the top of the list show up without a reload.
  const shown = useRef(jobs);
  shown.current = jobs;
  /** The cursor to read the list on from, null once it was read to its end. */
  const shownCursor = useRef(cursor);
  shownCursor.current = cursor;
  /** The ids of the rows in view (and the few either side), as last rendered. */
  const inView = useRef<string[]>([]);
  useEffect(() => {
    let refreshing = false;
    let stopped = false;
    let refreshes = 0;
    const refresh = async (): Promise<void> => {
      // Counting reads up to 10,000 jobs: not on every refresh, but where moving the total by the
      // head alone would drift (queued jobs start and running ones end anywhere in the list; oldest
      // first, new jobs come at its end, which the head does not show).
      refreshes++;
      const recount = oldestFirst || PASSING_STATUSES.has(status) || refreshes % RECOUNT_REFRESHES === 0;
      let page = await client.listJobs({ ...filter, limit: PAGE_SIZE, ...(recount ? { total: true } : {}) });
      const counted = page.total;
      remember(page.items, page.nextCursor);
      const items = [...page.items];
      // More than a page of new jobs since the last read: read on down to the jobs listed, or
      // those in between would never show (the list goes on below from its own cursor).
      const listed = new Set(shown.current.map((job) => job.id));
      const reachesListed = (): boolean => listed.size === 0 || page.nextCursor === null || items.some((job) => listed.has(job.id));
      for (let reads = 1; !reachesListed() && reads < CATCH_UP_PAGES && page.nextCursor !== null; reads++) {
        page = await client.listJobs({ ...filter, limit: PAGE_SIZE, cursor: page.nextCursor });
        remember(page.items, page.nextCursor);
        items.push(...page.items);
      }
      // The rows in view that the pages read do not hold (further down the list) and that may
      // still move on: read again as one page from the cursor of the page they are on (one
      // request, not one per row), or a running job scrolled to kept its first status.
      const fresh = new Map(items.map((job) => [job.id, job]));
      const rows = shown.current;
      const positions = new Map(rows.map((job, index) => [job.id, index]));
      const stale = inView.current.flatMap((id) => {
        const index = positions.get(id);
        return index === undefined || fresh.has(id) || TERMINAL_STATUSES.has(rows[index]?.status ?? 'succeeded') ? [] : [index];
      });
      let below: { after: string; items: JobView[]; nextCursor: string | null } | undefined;
      if (stale.length > 0) {
        const lastStale = Math.max(...stale);
        let from = Math.min(...stale) - 1;
        while (from >= 0 && !cursorAfter.current.has(rows[from]?.id ?? '')) from--;
        const after = rows[from]?.id;
        const cursorThere = after === undefined ? undefined : cursorAfter.current.get(after);
        if (after !== undefined && cursorThere !== undefined) {
          const window = await client.listJobs({ ...filter, limit: Math.min(LIST_LIMIT_MAX, lastStale - from), cursor: cursorThere });
          remember(window.items, window.nextCursor);
          below = { after, items: window.items, nextCursor: window.nextCursor };
        }
      }
      // Oldest first, new jobs come last: a list read to its end reads its end again (from the
      // cursor of the last page but one), or they would never show; a list of one page has it all
      // in the head just read, and reads on from there.
      let tail: { after: string | undefined; items: JobView[]; nextCursor: string | null } | undefined;
      if (oldestFirst && shownCursor.current === null && reachesListed()) {
        let from = rows.length - 1;
        while (from >= 0 && !cursorAfter.current.has(rows[from]?.id ?? '')) from--;
        const after = rows[from]?.id;
        const cursorThere = after === undefined ? undefined : cursorAfter.current.get(after);
        if (after !== undefined && cursorThere !== undefined) {
          const end = await client.listJobs({ ...filter, limit: LIST_LIMIT_MAX, cursor: cursorThere });
          remember(end.items, end.nextCursor);
          tail = { after, items: end.items, nextCursor: end.nextCursor };
        } else {
          tail = { after: undefined, items: [], nextCursor: page.nextCursor };
        }
      }
      if (stopped) return;
      setError('');
      // The total moves by the jobs the head read shows that came (new, or now matching the
      // filter) and went (no longer matching) since it was counted.
      const pastHead = pastPage(items, page.nextCursor, oldestFirst);
      const moved = items.filter((job) => !positions.has(job.id)).length - rows.filter((job) => !fresh.has(job.id) && !pastHead(job)).length;
      if (counted !== undefined) setTotal(counted);
      else if (moved !== 0) setTotal((known) => (known === undefined || !known.exact ? known : movedTotal(known.count + moved)));
      if (!reachesListed()) {
        // Still more new jobs than that: the list starts over from the newest, as on a reload.
        loading.current = undefined;
        setJobs(items);
        setCursor(page.nextCursor);
        return;
      }
      setJobs((previous) => {
        const known = new Set(previous.map((job) => job.id));
        // A listed job within the pages read but not among them no longer matches the filter
        // (its status moved on): it goes, rather than stay with its old status.
        const past = pastPage(items, page.nextCursor, oldestFirst);
        const kept = previous.filter((job) => fresh.has(job.id) || past(job));
        // Newest first, a job not listed yet is new and goes on top; oldest first, the page read
        // is the head of the list as it is now, and what was listed past it follows.
        const next = oldestFirst
          ? [...items, ...kept.filter((job) => !fresh.has(job.id))]
          : [...items.filter((job) => !known.has(job.id)), ...kept.map((job) => fresh.get(job.id) ?? job)];
        const merged = below === undefined ? next : mergeBelow(next, below.after, below.items, below.nextCursor, oldestFirst);
        if (tail?.after === undefined) return merged;
        const end = merged.findIndex((job) => job.id === tail.after);
        return end < 0 ? merged : [...merged.slice(0, end + 1), ...tail.items];
      });
      if (tail !== undefined && shownCursor.current === null) setCursor(tail.nextCursor);
    };
    const timer = setInterval(() => {
      if (refreshing) return; // one read (and its catching up) at a time
      refreshing = true;
      refresh()
        .catch((failure: unknown) => {
          if (!stopped) setError(`The list could not be refreshed: ${messageOf(failure)}`);
        })
        .finally(() => {
          refreshing = false;
        });
    }, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [client, filterKey]);

  // The tenants to pick from: those with an account, and those whose jobs are in the list.
  const tenantChoices = tenants === undefined ? [] : [...new Set([...tenants, ...jobs.map((job) => job.tenantId)])].sort();

  const items = virtualizer.getVirtualItems();
  inView.current = items.flatMap((row) => jobs[row.index]?.id ?? []);
  const last = items[items.length - 1];
  useEffect(() => {
    if (last !== undefined && last.index >= jobs.length - 20 && typeof cursor === 'string') void loadMore(cursor, false);
  }, [last?.index, cursor, jobs.length, loadMore]);

  return (
    <Page title="Jobs" actions={<a class="button" href={href({ page: 'submit' })}>New job</a>}>
      <label for="status-filter">Status</label>{' '}
      <select id="status-filter" value={status} onChange={(event) => setStatus(event.currentTarget.value as JobStatus | '')}>
        <option value="">any</option>
        {STATUSES.map((name) => (
          <option value={name} key={name}>
            {name.replace('_', ' ')}
          </option>
        ))}
      </select>
      {tenants === undefined ? null : (
        <>
          {' '}
          <label for="tenant-filter">Tenant</label>{' '}
          <select id="tenant-filter" value={tenant} onChange={(event) => setTenant(event.currentTarget.value)}>
            <option value="">mine</option>
            <option value="*">all tenants</option>
            {tenantChoices.map((name) => (
              <option value={name} key={name}>
                {name}
              </option>
            ))}
          </select>
        </>
      )}
      {' '}
      <label for="jobs-order">Order</label>{' '}
      <select id="jobs-order" value={oldestFirst ? 'created' : ''} onChange={(event) => setOldestFirst(event.currentTarget.value === 'created')}>
        <option value="">newest first</option>
        <option value="created">oldest first</option>
      </select>
      <form
        role="search"
        class="jobs-search"
        onSubmit={(event) => {
          event.preventDefault();
          sendSearch(typed);
        }}
      >
        <label for="jobs-search">Search</label>{' '}
        <input id="jobs-search" type="search" placeholder="job id or pipeline" maxLength={200} value={typed} onInput={(event) => setTyped(event.currentTarget.value)} />
      </form>
      <ErrorText message={error} id="jobs-error" />
      {!loaded && error === '' ? <p id="jobs-loading" role="status">Loading jobs…</p> : null}
      {loaded && jobs.length === 0 && error === '' ? <p id="jobs-empty">{status === '' && tenant === '' && search === '' ? 'No jobs yet.' : 'No job matches this filter.'}</p> : null}
      <p class="count" aria-live="polite">
        {countText(jobs.length, typeof cursor === 'string', total)}
      </p>
      <div ref={scrollRef} class="virtual" role="region" aria-label="Job list" tabIndex={0}>
        <ul id="jobs" style={{ height: `${layoutHeight}px` }}>
          {items.map((row) => {
            const job = jobs[row.index];
            if (job === undefined) return null;
            return (
              <li key={job.id} data-job-id={job.id} aria-setsize={jobs.length} aria-posinset={row.index + 1} style={{ transform: `translateY(${layoutStart(row.start)}px)`, height: `${ROW_HEIGHT}px` }}>
                <a href={href({ page: 'job', jobId: job.id })}>
                  <code>{job.id}</code>
                </a>
                <Status status={job.status} />
                <span class="pipeline">{job.pipeline}</span>
                {tenant === '' ? null : <span class="tenant">{job.tenantId}</span>}
                <span>{Math.round(job.progress.percent)}%</span>
                <span class="muted created">{when(job.createdAt)}</span>
              </li>
            );
          })}
        </ul>
      </div>
    </Page>
  );
}
