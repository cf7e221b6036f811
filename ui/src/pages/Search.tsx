import type { NamedSearchHit, ReamClient } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { ErrorText, Page } from '../components/common.tsx';
import { messageOf } from '../format.ts';
import { href, navigate } from '../router.ts';
import { snippetParts } from '../snippet.ts';

/** Full-text search over the tenant's pages; matched words marked, the snippet rendered as text. */
export function Search({ client, q }: { client: ReamClient; q: string }) {
  const [text, setText] = useState(q);
  const [hits, setHits] = useState<NamedSearchHit[] | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    setText(q);
    if (q.trim() === '') {
      setHits(undefined);
      return;
    }
    const abort = new AbortController();
    client.search(q, { limit: 50, signal: abort.signal }).then(
      (found) => {
        setHits(found);
        setError('');
      },
      (failure: unknown) => {
        if (!abort.signal.aborted) setError(messageOf(failure));
      },
    );
    return () => abort.abort();
  }, [client, q]);

  return (
    <Page title="Search">
      <form
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          navigate({ page: 'search', q: text.trim() });
        }}
      >
        <label for="search-q">Words on a page</label>
        <input id="search-q" type="search" maxLength={500} required value={text} onInput={(event) => setText(event.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorText message={error} id="search-error" />
      <p id="search-summary" aria-live="polite">
        {hits === undefined ? '' : hits.length === 0 ? 'No page holds all these words.' : `${hits.length} pages`}
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
              {snippetParts(hit.snippet).map((part, index) => (part.match ? <mark key={index}>{part.text}</mark> : part.text))}
            </p>
          </li>
        ))}
      </ul>
    </Page>
  );
}
