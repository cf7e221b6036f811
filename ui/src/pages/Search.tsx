import { SEARCH_TYPE_FAMILIES, type NamedSearchHit, type ReamClient, type SearchTypeFamily } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { ErrorText, Page } from '../components/common.tsx';
import { messageOf, plural } from '../format.ts';
import { href, navigate } from '../router.ts';
import { anyFilter, describeFilters, NO_FILTERS, searchOptionsOf, type SearchFilterState } from '../search-filters.ts';
import { snippetParts } from '../snippet.ts';

/** Hits asked for at a time (the API gives at most 100, best first; its cursor the next ones). */
const HITS_SHOWN = 50;

const TYPE_LABELS: Record<SearchTypeFamily, string> = {
  pdf: 'PDF',
  image: 'Images',
  sheet: 'Sheets (XLSX, CSV)',
  word: 'Word (DOCX)',
  html: 'HTML',
  text: 'Text, Markdown',
  email: 'Email',
};

/**
 * Full-text search over the tenant's pages; matched words marked, the snippet rendered as text.
 * Filters (job, type, dates, one field value) live in the hash with the words, so a reload or
 * Back shows the same search; with a filter the words may be left out.
 */
export function Search({ client, q, filters }: { client: ReamClient; q: string; filters: Partial<SearchFilterState> }) {
  const [text, setText] = useState(q);
  const [form, setForm] = useState<SearchFilterState>({ ...NO_FILTERS, ...filters });
  const [hits, setHits] = useState<NamedSearchHit[] | undefined>(undefined);
  /** The next page's cursor (null: no more hits), and the read of it under way. */
  const [next, setNext] = useState<string | null>(null);
  const [more, setMore] = useState<AbortController | undefined>(undefined);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState('');
  // One key for the route's search: the effect reruns when the words or a filter change.
  const routeKey = href({ page: 'search', q, filters });
  const filtered = anyFilter(filters);

  useEffect(() => {
    setText(q);
    setForm({ ...NO_FILTERS, ...filters });
    if (q.trim() === '' && !filtered) {
      setHits(undefined);
      return;
    }
    const abort = new AbortController();
    // The last search's hits are not this one's: gone while it runs.
    setHits(undefined);
    setNext(null);
    setMore(undefined);
    setSearching(true);
    client.searchPage(q, { ...searchOptionsOf(filters), limit: HITS_SHOWN, signal: abort.signal }).then(
      (found) => {
        setHits(found.items);
        setNext(found.nextCursor);
        setError('');
        setSearching(false);
      },
      (failure: unknown) => {
        if (abort.signal.aborted) return;
        setError(messageOf(failure));
        setSearching(false);
      },
    );
    return () => abort.abort();
    // routeKey stands for q and filters (a new object on every render).
  }, [client, routeKey]);

  // A read of more hits belongs to the search it continues: stopped when the search changes.
  useEffect(() => () => more?.abort(), [more, routeKey]);

  /** The hits after those shown, added below them. */
  const showMore = (cursor: string): void => {
    const abort = new AbortController();
    setMore(abort);
    client.searchPage(q, { ...searchOptionsOf(filters), limit: HITS_SHOWN, cursor, signal: abort.signal }).then(
      (found) => {
        setHits((shown) => [...(shown ?? []), ...found.items]);
        setNext(found.nextCursor);
        setError('');
        setMore(undefined);
      },
      (failure: unknown) => {
        if (abort.signal.aborted) return;
        setError(messageOf(failure));
        setMore(undefined);
      },
    );
  };

  const set = (key: keyof SearchFilterState) => (event: { currentTarget: { value: string } }) => setForm({ ...form, [key]: event.currentTarget.value });
  // A field filter is a pair: either half asks for the other.
  const fieldStarted = form.fieldName.trim() !== '' || form.fieldValue.trim() !== '';

  return (
    <Page title="Search">
      <form
        role="search"
        class="search-form"
        onSubmit={(event) => {
          event.preventDefault();
          navigate({ page: 'search', q: text.trim(), filters: form });
        }}
      >
        <div class="search-words">
          <label for="search-q">Words on a page</label>
          <input id="search-q" type="search" maxLength={500} value={text} onInput={(event) => setText(event.currentTarget.value)} />
          <button type="submit">Search</button>
        </div>
        <fieldset class="search-filters">
          <legend>Filters (the words may be left out when one is set)</legend>
          <div>
            <label for="search-job">Job id</label>
            <input id="search-job" value={form.job} onInput={set('job')} spellcheck={false} autoComplete="off" />
          </div>
          <div>
            <label for="search-type">Type</label>
            <select id="search-type" value={form.type} onChange={set('type')}>
              <option value="">Any type</option>
              {/* A media type from a link (application/pdf) is no family: shown as it is, not as "Any type". */}
              {form.type !== '' && !(SEARCH_TYPE_FAMILIES as readonly string[]).includes(form.type) ? <option value={form.type}>{form.type}</option> : null}
              {SEARCH_TYPE_FAMILIES.map((family) => (
                <option key={family} value={family}>{TYPE_LABELS[family]}</option>
              ))}
            </select>
          </div>
          <div>
            <label for="search-from">Indexed from</label>
            <input id="search-from" type="date" value={form.from} max={form.to || undefined} onInput={set('from')} />
          </div>
          <div>
            <label for="search-to">Indexed to</label>
            <input id="search-to" type="date" value={form.to} min={form.from || undefined} onInput={set('to')} />
          </div>
          <div>
            <label for="search-field-name">Field name</label>
            <input id="search-field-name" value={form.fieldName} required={fieldStarted} onInput={set('fieldName')} spellcheck={false} />
          </div>
          <div>
            <label for="search-field-value">Field value</label>
            <input id="search-field-value" value={form.fieldValue} required={fieldStarted} onInput={set('fieldValue')} spellcheck={false} />
          </div>
          <div class="search-filter-actions">
            <button
              type="button"
              disabled={!anyFilter(form) && !fieldStarted}
              onClick={() => {
                // Filters typed but not searched yet are cleared too (the route may not change).
                setForm(NO_FILTERS);
                navigate({ page: 'search', q: text.trim(), filters: NO_FILTERS });
              }}
            >
              Clear filters
            </button>
          </div>
        </fieldset>
        <p class="muted">Dates are whole days in UTC. A field value matches whole and in any case, on any page of the document.</p>
        {/* What the shown hits are filtered by, as the link says it: a filter the form cannot show (a date-time, epoch ms) is never hidden. */}
        {filtered ? <p id="search-active">Filtered by {describeFilters(filters)}.</p> : null}
      </form>
      <ErrorText message={error} id="search-error" />
      <p id="search-summary" aria-live="polite">
        {hits === undefined
          ? searching ? 'Searching…' : ''
          : hits.length === 0
            ? filtered ? 'No page matches these words and filters.' : 'No page holds all these words.'
            : next !== null
              ? `The first ${plural(hits.length, 'page')}, best first: more below, or more words or a filter narrow them down.`
              : plural(hits.length, 'page')}
      </p>
      <ul id="search-hits" class="hits">
        {(hits ?? []).map((hit) => (
          <li key={`${hit.documentId}-${hit.page}`}>
            {hit.jobId === null ? (
              <strong class="name">{hit.name}</strong>
            ) : (
              <a class="name" href={href({ page: 'document', jobId: hit.jobId, documentId: hit.documentId, at: hit.page })}>
                {hit.name}
              </a>
            )}{' '}
            page {hit.page} <code class="muted">{hit.documentId}</code>
            <p>
              {snippetParts(hit).map((part, index) => (part.match ? <mark key={index}>{part.text}</mark> : part.text))}
            </p>
          </li>
        ))}
      </ul>
      {hits !== undefined && next !== null ? (
        <button type="button" id="search-more" disabled={more !== undefined} onClick={() => showMore(next)}>
          {more === undefined ? 'More pages' : 'Loading…'}
        </button>
      ) : null}
    </Page>
  );
}
