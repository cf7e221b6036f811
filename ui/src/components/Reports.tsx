import type { ArtifactView, ReamClient } from '@client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { saveFile } from '../download.ts';
import { bytes, messageOf } from '../format.ts';
import { ErrorText } from './common.tsx';

/** The server's empty page with the report policy (src/server/routes/report-frame.ts), beside the console (relative: under a proxy's prefix too). */
const REPORT_FRAME_PATH = 'report-frame';

const isHtml = (artifact: ArtifactView): boolean => artifact.mediaType.startsWith('text/html');

function labelOf(artifact: ArtifactView): string {
  return `${artifact.name}${artifact.row > 0 ? ` (row ${artifact.row})` : ''}`;
}

/**
 * One HTML report, inline. Its HTML is fetched with the SDK (the key goes in a header, never in
 * a URL) and shown in an `<iframe sandbox srcdoc>` (no `allow-scripts`: it never runs script, and
 * has an opaque origin). That iframe sits in the server's `/report-frame`, whose policy it takes
 * (`default-src 'none'; style-src 'unsafe-inline'; img-src data:`): the report keeps its styles
 * without the console's own policy being loosened. The outer frame is sandboxed too, with
 * `allow-same-origin` only so the console can put the report in it.
 */
function ReportFrame({ client, jobId, artifact }: { client: ReamClient; jobId: string; artifact: ArtifactView }) {
  const outer = useRef<HTMLIFrameElement>(null);
  const [frameReady, setFrameReady] = useState(false);
  const [html, setHtml] = useState<string | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    let current = true;
    setHtml(undefined);
    setError('');
    client
      .downloadArtifact(jobId, artifact.name)
      .then((body) => new Response(body).text())
      .then((text) => current && setHtml(text), (failure: unknown) => current && setError(`The report could not be loaded: ${messageOf(failure)}`));
    return () => {
      current = false;
    };
  }, [client, jobId, artifact.name]);

  useEffect(() => {
    const doc = outer.current?.contentDocument;
    if (!frameReady || html === undefined || !doc?.body) return;
    const inner = doc.createElement('iframe');
    inner.setAttribute('sandbox', '');
    inner.title = `Report ${artifact.name}`;
    inner.srcdoc = html;
    doc.body.replaceChildren(inner);
  }, [frameReady, html, artifact.name]);

  return (
    <>
      <ErrorText message={error} />
      <iframe
        ref={outer}
        class="report-frame"
        id="report-frame"
        src={REPORT_FRAME_PATH}
        sandbox="allow-same-origin"
        title={`Report ${artifact.name}`}
        aria-busy={html === undefined}
        onLoad={() => setFrameReady(true)}
      />
    </>
  );
}

/** Reports listed at a time: a job may render tens of thousands. */
export const REPORTS_PAGE = 100;

/** Adds the files not listed yet, in the order given. */
function withNew(listed: readonly ArtifactView[], more: readonly ArtifactView[]): ArtifactView[] {
  const names = new Set(listed.map((item) => item.name));
  return [...listed, ...more.filter((item) => !names.has(item.name))];
}

/**
 * The reports a job rendered (job artifacts), of one document when `documentId` is given (asked
 * of the server, a page at a time): HTML reports inline, each file as a download (streamed to disk
 * through a single-use ticket URL). Nothing when there are none.
 */
export function Reports({ client, jobId, documentId, row, onListed }: {
  client: ReamClient;
  jobId: string;
  documentId?: string;
  /** A data row whose report to show (chosen in the rows table): its first HTML report, else its first. */
  row?: { row: number } | undefined;
  /** Told the first page of reports once listed, and whether it holds them all (the rows table offers a row's report when rows have one). */
  onListed?: (artifacts: ArtifactView[], complete: boolean) => void;
}) {
  const [artifacts, setArtifacts] = useState<ArtifactView[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const [selected, setSelected] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const picker = useRef<HTMLSelectElement>(null);
  const scope = documentId === undefined ? {} : { documentId };

  useEffect(() => {
    let current = true;
    client.artifactPage(jobId, { ...scope, limit: REPORTS_PAGE }).then(
      ({ items, nextCursor }) => {
        if (!current) return;
        setArtifacts(items);
        setCursor(nextCursor);
        setSelected((items.find(isHtml) ?? items[0])?.name ?? '');
        onListed?.(items, nextCursor === null);
      },
      (failure: unknown) => current && setError(`Reports could not be listed: ${messageOf(failure)}`),
    );
    return () => {
      current = false;
    };
  }, [client, jobId, documentId]);

  // A new object each time a row is chosen: choosing the same row again shows it again. A row
  // past the pages listed is asked of the server.
  useEffect(() => {
    if (row === undefined || artifacts === undefined) return;
    let current = true;
    const show = (ofRow: readonly ArtifactView[]): void => {
      const pick = ofRow.find(isHtml) ?? ofRow[0];
      if (pick === undefined) {
        setError(`Row ${row.row} has no report.`);
        return;
      }
      setError('');
      setSelected(pick.name);
      picker.current?.scrollIntoView({ block: 'start' });
      picker.current?.focus();
    };
    const listed = artifacts.filter((item) => item.row === row.row);
    if (listed.length > 0 || cursor === null) show(listed);
    else {
      client.artifactPage(jobId, { ...scope, row: row.row, limit: REPORTS_PAGE }).then(
        ({ items }) => {
          if (!current) return;
          setArtifacts((before) => withNew(before ?? [], items));
          show(items);
        },
        (failure: unknown) => current && setError(`Reports could not be listed: ${messageOf(failure)}`),
      );
    }
    return () => {
      current = false;
    };
  }, [row]);

  const more = async (): Promise<void> => {
    if (cursor === null) return;
    setBusy(true);
    try {
      const page = await client.artifactPage(jobId, { ...scope, limit: REPORTS_PAGE, cursor });
      setArtifacts((before) => withNew(before ?? [], page.items));
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(`Reports could not be listed: ${messageOf(failure)}`);
    } finally {
      setBusy(false);
    }
  };

  if (artifacts === undefined || artifacts.length === 0) return error === '' ? null : <ErrorText message={error} />;
  const artifact = artifacts.find((item) => item.name === selected) ?? artifacts[0];
  if (artifact === undefined) return null;

  const save = async (): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      await saveFile(client, client.artifactPath(jobId, artifact.name));
    } catch (failure) {
      setError(`Download failed: ${messageOf(failure)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="reports" aria-labelledby="reports-title">
      <h2 id="reports-title">Reports</h2>
      <p>
        <label for="report-select">{artifacts.length === 1 && cursor === null ? 'Report' : `Report (${artifacts.length}${cursor === null ? '' : ' listed'})`}</label>{' '}
        <select ref={picker} id="report-select" value={artifact.name} onChange={(event) => setSelected(event.currentTarget.value)}>
          {artifacts.map((item) => (
            <option key={item.name} value={item.name}>
              {labelOf(item)}
            </option>
          ))}
        </select>{' '}
        {cursor === null ? null : (
          <>
            <button type="button" id="more-reports" disabled={busy} onClick={() => void more()}>
              {`List ${REPORTS_PAGE} more`}
            </button>{' '}
          </>
        )}
        <button type="button" disabled={busy} aria-busy={busy} onClick={() => void save()}>
          {`Download ${artifact.name}`}
        </button>{' '}
        <span class="muted">{bytes(artifact.size)}</span>
      </p>
      <ErrorText message={error} />
      {isHtml(artifact) ? <ReportFrame key={artifact.name} client={client} jobId={jobId} artifact={artifact} /> : null}
    </section>
  );
}
