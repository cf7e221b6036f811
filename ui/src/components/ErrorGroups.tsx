import type { ErrorGroupView, ReamClient } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { messageOf, when } from '../format.ts';
import { href } from '../router.ts';
import { ErrorText } from './common.tsx';

const REFRESH_MS = 10_000;

/**
 * Recent failures grouped by error code (`GET /v1/errors`, the last 24 h): how many, when last,
 * and the newest one with a link to its document (or job). Tenants see their own, admins all.
 */
export function ErrorGroups({ client }: { client: ReamClient }) {
  const [groups, setGroups] = useState<{ items: ErrorGroupView[]; truncated: boolean } | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    const abort = new AbortController();
    const load = (): void => {
      client.errors({ signal: abort.signal }).then(
        (answer) => {
          setGroups(answer);
          setError('');
        },
        (failure: unknown) => {
          if (!abort.signal.aborted) setError(`Errors could not be read: ${messageOf(failure)}`);
        },
      );
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [client]);

  return (
    <>
      <h2>Recent errors</h2>
      <ErrorText message={error} />
      {groups === undefined ? null : groups.items.length === 0 ? (
        <p id="errors-none">No failures in the last 24 hours.</p>
      ) : (
        <div class="table-wrap">
          <table id="error-groups">
            <caption>Failed chunks and documents of the last 24 hours, by error code{groups.truncated ? ' (the newest 10,000 counted)' : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Count</th>
                <th scope="col">Last</th>
                <th scope="col">Latest failure</th>
              </tr>
            </thead>
            <tbody>
              {groups.items.map((group) => {
                const { sample } = group;
                const target = sample.documentId === null ? href({ page: 'job', jobId: sample.jobId }) : href({ page: 'document', jobId: sample.jobId, documentId: sample.documentId });
                return (
                  <tr key={group.code} data-code={group.code}>
                    <td>
                      <code>{group.code}</code>
                    </td>
                    <td>{group.count}</td>
                    <td>{when(group.lastAt)}</td>
                    <td>
                      <a href={target}>{sample.documentName ?? sample.documentId ?? `job ${sample.jobId}`}</a>
                      {sample.pages === null ? '' : ` pages ${sample.pages.first}–${sample.pages.last}`}
                      {`: ${sample.message}`}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
