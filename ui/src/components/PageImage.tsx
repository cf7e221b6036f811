import type { ReamClient } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../format.ts';

/**
 * A page as the server draws it (`GET /v1/documents/:id/pages/:page/image`). Fetched with the
 * key through the SDK (an <img src> cannot send one) and shown from a blob: URL, freed on change.
 */
export function PageImage({ client, documentId, page, label }: { client: ReamClient; documentId: string; page: number; label: string }) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    const abort = new AbortController();
    let created: string | undefined;
    setError('');
    client.pageImage(documentId, page, { signal: abort.signal }).then(
      (blob) => {
        created = URL.createObjectURL(blob);
        setUrl(created);
      },
      (failure: unknown) => {
        if (!abort.signal.aborted) setError(`No page image: ${messageOf(failure)}`);
      },
    );
    return () => {
      abort.abort();
      if (created !== undefined) URL.revokeObjectURL(created);
    };
  }, [client, documentId, page]);

  if (error !== '') return <p class="muted page-image">{error}</p>;
  return <div class="page-image">{url === undefined ? <p class="muted">Drawing the page…</p> : <img src={url} alt={label} />}</div>;
}
