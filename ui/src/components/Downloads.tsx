import { DOWNLOAD_FORMATS, type DownloadFormat, type ReamClient } from '@client';
import { useState } from 'preact/hooks';
import { saveFile } from '../download.ts';
import { messageOf } from '../format.ts';
import { ErrorText } from './common.tsx';

const LABELS: Record<DownloadFormat, string> = { json: 'JSON', ndjson: 'NDJSON', csv: 'CSV', xlsx: 'XLSX' };

/**
 * Buttons that save the results (the whole job's, or one document's) in each format the server
 * offers (`GET /v1/jobs/:id/download`). The browser downloads the file itself, streamed to disk,
 * through a single-use ticket URL (never the key), under the name the server gives.
 */
export function Downloads({ client, jobId, documentId, disabled = false }: { client: ReamClient; jobId: string; documentId?: string; disabled?: boolean }) {
  const [busy, setBusy] = useState<DownloadFormat | undefined>(undefined);
  const [error, setError] = useState('');
  const what = documentId === undefined ? 'results' : 'result';

  const save = async (format: DownloadFormat): Promise<void> => {
    setBusy(format);
    setError('');
    try {
      await saveFile(client, client.downloadPath(jobId, { format, ...(documentId === undefined ? {} : { documentId }) }));
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
