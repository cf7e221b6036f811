import { DOWNLOAD_FORMATS, type DownloadFormat, type ReamClient } from '@client';
import { useState } from 'preact/hooks';
import { download } from '../download.ts';
import { messageOf } from '../format.ts';
import { ErrorText } from './common.tsx';

const LABELS: Record<DownloadFormat, string> = { json: 'JSON', ndjson: 'NDJSON', csv: 'CSV', xlsx: 'XLSX' };

/**
 * Buttons that save the results (the whole job's, or one document's) in each format the server
 * offers (`GET /v1/jobs/:id/download`). The file is fetched with the key, never through a URL
 * that would carry it, and saved from a `blob:` URL under the name the server gives.
 */
export function Downloads({ client, jobId, documentId, disabled = false }: { client: ReamClient; jobId: string; documentId?: string; disabled?: boolean }) {
  const [busy, setBusy] = useState<DownloadFormat | undefined>(undefined);
  const [error, setError] = useState('');
  const what = documentId === undefined ? 'results' : 'result';

  const save = async (format: DownloadFormat): Promise<void> => {
    setBusy(format);
    setError('');
    try {
      const file = await client.download(jobId, { format, ...(documentId === undefined ? {} : { documentId }) });
      download(file.name, await new Response(file.body, { headers: { 'content-type': file.mediaType } }).blob());
    } catch (failure) {
      setError(`Download failed: ${messageOf(failure)}`);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div class="downloads">
      <div class="actions" role="group" aria-label={`Download ${what}`}>
        <span>Download {what}:</span>
        {DOWNLOAD_FORMATS.map((format) => (
          <button type="button" key={format} disabled={disabled || busy !== undefined} aria-busy={busy === format} onClick={() => void save(format)}>
            {LABELS[format]}
          </button>
        ))}
      </div>
      <ErrorText message={error} />
    </div>
  );
}
