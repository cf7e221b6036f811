import { ReamHttpError, type DocumentOutput, type ReamClient } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { ErrorText, Page, Status } from '../components/common.tsx';
import { PageImage } from '../components/PageImage.tsx';
import { Downloads } from '../components/Downloads.tsx';
import { Reports } from '../components/Reports.tsx';
import { RowsTable } from '../components/RowsTable.tsx';
import { bytes, messageOf } from '../format.ts';
import { href } from '../router.ts';

/** The page's text with `quote` marked where it occurs (as text nodes, never HTML). */
function PageText({ text, quote }: { text: string; quote: string | undefined }) {
  const at = quote === undefined || quote === '' ? -1 : text.indexOf(quote);
  // Focusable: the text scrolls, and a keyboard must be able to scroll it.
  if (at === -1 || quote === undefined) return <pre class="page-text" tabIndex={0} aria-label="Page text">{text}</pre>;
  return (
    <pre class="page-text" tabIndex={0} aria-label="Page text">
      {text.slice(0, at)}
      <mark>{quote}</mark>
      {text.slice(at + quote.length)}
    </pre>
  );
}

/**
 * One document of a job: a table's rows as a sortable, filterable table; any other document's
 * text page by page, and its extracted fields linked to their pages; the reports rendered from it.
 */
export function Document({ client, jobId, documentId, at = 1 }: { client: ReamClient; jobId: string; documentId: string; at?: number }) {
  const [output, setOutput] = useState<DocumentOutput | undefined>(undefined);
  const [error, setError] = useState('');
  const [page, setPage] = useState(at);
  useEffect(() => setPage(at), [at, documentId]);
  const [quote, setQuote] = useState<string | undefined>(undefined);
  /** The rows of a table that have a report, and the one whose report was last asked for. */
  const [reportRows, setReportRows] = useState<ReadonlySet<number> | 'any'>(new Set());
  const [reportRow, setReportRow] = useState<{ row: number } | undefined>(undefined);

  useEffect(() => {
    // Without its pages first: a table's rows are read in windows, never all at once (a result
    // keeps up to 10,000 of them); any other document's pages are its text, read next.
    const load = async (): Promise<DocumentOutput> => {
      const summary = await client.documentResult(jobId, documentId, { pages: 'none' });
      return summary.metadata?.columns === undefined ? client.documentResult(jobId, documentId) : summary;
    };
    load().then(setOutput, async (failure: unknown) => {
      if (!(failure instanceof ReamHttpError && failure.code === 'not_found')) return setError(messageOf(failure));
      // No result: say whether one may come, or what is missing (a bad link).
      const [job, doc] = await Promise.all([client.getJob(jobId).then(() => true, () => false), client.getDocument(documentId).then(() => true, () => false)]);
      setError(!job ? `There is no job ${jobId}.` : !doc ? `There is no document ${documentId}.` : 'This document has no result in this job yet.');
    });
  }, [client, jobId, documentId]);

  const pages = output?.pages ?? [];
  const fields = Object.entries(output?.fields ?? {});
  const title = output?.source ?? documentId;
  // A table (CSV, XLSX) names its input columns: its pages are rows, shown as a table of their own.
  // Only the columns the job kept (its `columns` option): the others are not in the rows' cells.
  const [keptColumns, setKeptColumns] = useState<readonly string[] | undefined>(undefined);
  useEffect(() => {
    client.getJob(jobId).then((job) => {
      const { columns } = job.options;
      setKeptColumns(Array.isArray(columns) && columns.every((column) => typeof column === 'string') ? columns : undefined);
    }, () => undefined);
  }, [client, jobId]);
  const allColumns = output?.metadata?.columns;
  const inputColumns = allColumns === undefined || keptColumns === undefined ? allColumns : allColumns.filter((column) => keptColumns.includes(column));

  // A result that keeps its pages out (`pagesOmitted`: the job's `pagesInResult: false`) has
  // them in the job's pages still: the one shown is read from there, one page at a time.
  const omitted = output?.pagesOmitted === true && inputColumns === undefined;
  const [readPage, setReadPage] = useState<{ page: number; text: string } | undefined>(undefined);
  useEffect(() => {
    if (!omitted) return;
    let current = true;
    client.documentRows(jobId, documentId, { offset: page - 1, limit: 1 }).then(
      ({ rows }) => current && setReadPage({ page, text: rows[0]?.read?.text ?? '' }),
      (failure: unknown) => current && setError(`Page ${page} could not be read: ${messageOf(failure)}`),
    );
    return () => {
      current = false;
    };
  }, [client, jobId, documentId, omitted, page]);
  const pageNumbers = omitted ? Array.from({ length: output?.pageCount ?? 0 }, (_, index) => index + 1) : pages.map((item) => item.page);
  // While the next one is read, the last one read stays (the picker keeps its place and focus).
  const current = omitted ? readPage : (pages.find((item) => item.page === page) ?? pages[0]);

  return (
    <Page title={title}>
      <p>
        <a href={href({ page: 'job', jobId })}>Back to job {jobId}</a>
      </p>
      <ErrorText message={error} id="document-error" />
      {output === undefined ? null : (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Status status={output.status} />
            </dd>
            <dt>Type</dt>
            <dd>{output.mediaType ?? 'unknown'}</dd>
            <dt>Size</dt>
            <dd>{bytes(output.size)}</dd>
            <dt>Pages</dt>
            <dd>{output.pageCount ?? '—'}</dd>
          </dl>
          <Downloads client={client} jobId={jobId} documentId={documentId} />
          {output.error ? <p class="error">{`${output.error.message} (${output.error.code})`}</p> : null}
          <Reports client={client} jobId={jobId} documentId={documentId} row={reportRow} onListed={(artifacts, complete) => setReportRows(complete ? new Set(artifacts.map((artifact) => artifact.row)) : 'any')} />
          {inputColumns === undefined ? null : (
            <>
              <h2>Rows</h2>
              <RowsTable
                client={client}
                jobId={jobId}
                documentId={documentId}
                inputs={inputColumns}
                fields={Object.keys(output.fields)}
                reportRows={reportRows}
                onReport={(row) => setReportRow({ row })}
              />
            </>
          )}
        </>
      )}
      {output === undefined || inputColumns !== undefined ? null : (
        <>
          <h2>Fields</h2>
          {fields.length === 0 ? (
            <p>No fields were extracted.</p>
          ) : (
            <table class="fields-table">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Value</th>
                  <th scope="col">Page</th>
                </tr>
              </thead>
              <tbody>
                {fields.flatMap(([name, matches]) =>
                  matches.map((match, index) => (
                    <tr key={`${name}-${index}`}>
                      <td>{name}</td>
                      <td>{match.value}</td>
                      <td>
                        <button
                          type="button"
                          class="link"
                          onClick={() => {
                            setPage(match.page);
                            setQuote(match.quote ?? match.value);
                          }}
                        >
                          page {match.page}
                        </button>
                      </td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          )}
          {output.failedPages.length > 0 ? (
            <>
              <h2>Pages that could not be read</h2>
              <ul>
                {output.failedPages.map((failure) => (
                  <li key={failure.page}>{`page ${failure.page}: ${failure.message} (${failure.code})`}</li>
                ))}
              </ul>
            </>
          ) : null}
          {output.warnings !== undefined && output.warnings.length > 0 ? (
            <>
              <h2>Warnings</h2>
              <p class="muted">Why the document only partially succeeded: what these pages hold was left out or not found.</p>
              <ul id="document-warnings">
                {output.warnings.map((warning) => (
                  <li key={`${warning.page}-${warning.code}`}>{`page ${warning.page}: ${warning.message} (${warning.code})`}</li>
                ))}
              </ul>
            </>
          ) : null}
          <h2>Text</h2>
          {current === undefined ? (
            <p>{omitted && pageNumbers.length > 0 ? 'Reading the page…' : 'No text.'}</p>
          ) : (
            <div class="pager">
              <label for="page-select">Page</label>{' '}
              <select
                id="page-select"
                value={String(omitted ? page : current.page)}
                onChange={(event) => {
                  setPage(Number(event.currentTarget.value));
                  setQuote(undefined);
                }}
              >
                {pageNumbers.map((number) => (
                  <option key={number} value={String(number)}>
                    {number}
                  </option>
                ))}
              </select>{' '}
              of {pageNumbers.length}
              <div class="page-view">
                {output.mediaType === 'application/pdf' ? <PageImage client={client} documentId={documentId} page={current.page} label={`Page ${current.page} of ${title}`} /> : null}
                <PageText text={current.text} quote={quote} />
              </div>
            </div>
          )}
        </>
      )}
    </Page>
  );
}
