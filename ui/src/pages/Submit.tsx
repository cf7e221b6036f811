import type { JobEstimateView, JsonObject, PipelineView, PriorityName, ReamClient, TableOutlineView } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { Bar, ErrorText, Page } from '../components/common.tsx';
import { OptionsForm } from '../components/OptionsForm.tsx';
import { SheetPicker } from '../components/SheetPicker.tsx';
import { chosenFiles, droppedFiles, type NamedFile } from '../folder-files.ts';
import { bytes, messageOf } from '../format.ts';
import { fieldsOf, optionsOf, type FormValues } from '../option-form.ts';
import { navigate } from '../router.ts';

/** Until the server has said which pipelines it has: the built-in ones, options as JSON. */
const BUILT_IN: PipelineView[] = ['extract', 'rules', 'llm', 'rows', 'report'].map((name) => ({ name, optionsSchema: { type: 'object' } }));
const PRIORITIES: PriorityName[] = ['low', 'normal', 'high', 'critical'];

interface Picked {
  file: File;
  /** The file's path inside a dropped or chosen folder, or its own name (the server keeps its last part as the document's name). */
  name: string;
  sent: number;
  state: 'waiting' | 'uploading' | 'stored' | 'failed';
  error: string;
  /** Set once stored: a spreadsheet is stored as soon as it is picked, to list its sheets and columns. */
  documentId?: string;
}

/** Files whose sheets and columns the server can list (`POST /v1/documents/:id/inspect`). */
const TABLE_FILE = /\.(xlsx|csv)$/i;

/** The columns of a `columns` form value (JSON), none when it is empty or not a list. */
function columnsOf(value: string | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(value ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function parseOptions(text: string): JsonObject {
  if (text.trim() === '') return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('Options must be a JSON object, e.g. {"chunkPages": 10}');
  return value as JsonObject;
}

/** `webkitdirectory` (every browser has it, under this name) is not in Preact's element types. */
const FOLDER_INPUT = { webkitdirectory: true } as Record<string, unknown>;

/** Drop files, upload each over tus (resumable, with its progress), then start a job on them. */
export function Submit({ client }: { client: ReamClient }) {
  const [picked, setPicked] = useState<Picked[]>([]);
  const [pipeline, setPipeline] = useState('extract');
  const [priority, setPriority] = useState<PriorityName>('normal');
  const [options, setOptions] = useState('');
  const [pipelines, setPipelines] = useState<PipelineView[]>(BUILT_IN);
  const [values, setValues] = useState<Record<string, FormValues>>({});

  useEffect(() => {
    client.pipelines().then(setPipelines, (failure: unknown) => setError(`Pipelines could not be read: ${messageOf(failure)}`));
  }, [client]);

  const schema = pipelines.find((candidate) => candidate.name === pipeline)?.optionsSchema ?? { type: 'object' };
  const fields = fieldsOf(schema);
  const formValues = values[pipeline] ?? {};

  // What the job would reserve, asked again as the files, pipeline and options change.
  const [estimate, setEstimate] = useState<JobEstimateView | string | undefined>(undefined);
  const optionsKey = JSON.stringify(values[pipeline] ?? {});
  useEffect(() => {
    if (picked.length === 0) {
      setEstimate(undefined);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      let asked: JsonObject;
      try {
        asked = fields.length === 0 ? parseOptions(options) : optionsOf(fields, formValues);
      } catch {
        return;
      }
      client.estimate({ documents: picked.length, pipeline, options: asked }).then(
        (answer) => current && setEstimate(answer),
        (failure: unknown) => current && setEstimate(messageOf(failure)),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, picked.length, pipeline, optionsKey, options, pipelines]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  // A spreadsheet for a pipeline with a `sheet` option: stored at once, its sheets and columns listed.
  const [outline, setOutline] = useState<{ documentId: string; outline: TableOutlineView } | undefined>(undefined);
  const picksSheet = fields.some((field) => field.key === 'sheet');
  const tableIndex = picked.findIndex((item) => TABLE_FILE.test(item.file.name));
  const table = tableIndex < 0 ? undefined : picked[tableIndex];
  useEffect(() => {
    if (!picksSheet || table === undefined || table.state === 'failed' || table.state === 'uploading') return;
    if (table.documentId === undefined) {
      update(tableIndex, { state: 'uploading', error: '' });
      client.upload(table.file, { onProgress: (sent) => update(tableIndex, { sent }) }).then(
        (stored) => update(tableIndex, { state: 'stored', sent: table.file.size, documentId: stored.documentId }),
        (failure: unknown) => update(tableIndex, { state: 'failed', error: messageOf(failure) }),
      );
      return;
    }
    if (outline?.documentId === table.documentId) return;
    const documentId = table.documentId;
    client.inspectDocument(documentId).then(
      (answer) => setOutline({ documentId, outline: answer }),
      (failure: unknown) => setError(`The sheets of ${table.file.name} could not be read: ${messageOf(failure)}`),
    );
  }, [client, picksSheet, table?.file, table?.documentId, table?.state]);
  const pickRows = (sheet: string, columns: string[]): void =>
    setValues((previous) => ({ ...previous, [pipeline]: { ...(previous[pipeline] ?? {}), sheet, columns: columns.length === 0 ? '' : JSON.stringify(columns) } }));
  const [over, setOver] = useState(false);

  const add = (files: readonly NamedFile[]): void => {
    setPicked((previous) => [...previous, ...files.map(({ file, name }) => ({ file, name, sent: 0, state: 'waiting' as const, error: '' }))]);
  };
  const [webhookUrl, setWebhookUrl] = useState('');
  const [webhookSecret, setWebhookSecret] = useState('');
  const update = (index: number, change: Partial<Picked>): void =>
    setPicked((previous) => previous.map((item, i) => (i === index ? { ...item, ...change } : item)));

  const start = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError('');
    let parsed: JsonObject;
    try {
      parsed = fields.length === 0 ? parseOptions(options) : optionsOf(fields, formValues);
    } catch (failure) {
      setError(`Options: ${messageOf(failure)}`);
      return;
    }
    setBusy(true);
    try {
      const documents: string[] = [];
      for (const [index, item] of picked.entries()) {
        if (item.documentId !== undefined) {
          documents.push(item.documentId); // stored already (a spreadsheet, to list its sheets)
          continue;
        }
        update(index, { state: 'uploading', error: '' });
        try {
          const stored = await client.upload(item.file, { name: item.name, onProgress: (sent) => update(index, { sent }) });
          documents.push(stored.documentId);
          update(index, { state: 'stored', sent: item.file.size });
        } catch (failure) {
          update(index, { state: 'failed', error: messageOf(failure) });
          throw failure;
        }
      }
      const webhook = webhookUrl.trim() === '' ? {} : { webhook: { url: webhookUrl.trim(), ...(webhookSecret === '' ? {} : { secret: webhookSecret }) } };
      const job = await client.submit({ documents, pipeline, options: parsed, priority, ...webhook });
      navigate({ page: 'job', jobId: job.id });
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="New job">
      <form onSubmit={(event) => void start(event)}>
        <label
          for="files"
          class={over ? 'drop over' : 'drop'}
          onDragOver={(event) => {
            event.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(event) => {
            event.preventDefault();
            setOver(false);
            if (event.dataTransfer === null) return;
            droppedFiles(event.dataTransfer).then(add, (failure: unknown) => setError(messageOf(failure)));
          }}
        >
          Drop files or folders here, or choose files
          <input id="files" type="file" multiple onChange={(event) => add(chosenFiles(event.currentTarget.files))} />
        </label>
        <label for="folder" class="folder-pick">
          Or choose a folder (every file in it and in its subfolders)
          <input id="folder" type="file" multiple {...FOLDER_INPUT} onChange={(event) => add(chosenFiles(event.currentTarget.files))} />
        </label>
        <ul class="uploads" aria-label="Files to upload">
          {picked.map((item, index) => (
            <li key={`${index}-${item.name}`}>
              <span class="name">{item.name}</span> <span class="muted">{bytes(item.file.size)}</span>
              <Bar label={`Upload of ${item.name}`} value={item.sent} max={Math.max(1, item.file.size)}>
                {item.state}
              </Bar>
              {item.error === '' ? null : <span class="error">{item.error}</span>}
              <button type="button" disabled={busy} onClick={() => setPicked((previous) => previous.filter((_, i) => i !== index))} aria-label={`Remove ${item.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
        <div class="fields">
          <label for="pipeline">Pipeline</label>
          <select id="pipeline" value={pipeline} onChange={(event) => setPipeline(event.currentTarget.value)}>
            {pipelines.map(({ name }) => (
              <option value={name} key={name}>
                {name}
              </option>
            ))}
          </select>
          <label for="priority">Priority</label>
          <select id="priority" value={priority} onChange={(event) => setPriority(event.currentTarget.value as PriorityName)}>
            {PRIORITIES.map((name) => (
              <option value={name} key={name}>
                {name}
              </option>
            ))}
          </select>
          <label for="webhook-url">Webhook URL (optional)</label>
          <input id="webhook-url" type="url" placeholder="https://example.com/ream-hook" maxLength={2000} value={webhookUrl} onInput={(event) => setWebhookUrl(event.currentTarget.value)} />
          <label for="webhook-secret">Webhook secret (optional: signs each delivery)</label>
          <input id="webhook-secret" type="password" autocomplete="off" maxLength={500} value={webhookSecret} onInput={(event) => setWebhookSecret(event.currentTarget.value)} />
          {fields.length === 0 ? (
            <>
              <label for="options">Options (JSON)</label>
              <textarea id="options" rows={3} placeholder='{"chunkPages": 10}' value={options} onInput={(event) => setOptions(event.currentTarget.value)} />
            </>
          ) : null}
        </div>
        {fields.length === 0 ? null : (
          <OptionsForm
            pipeline={pipeline}
            fields={fields}
            values={formValues}
            onChange={(key, value) => setValues((previous) => ({ ...previous, [pipeline]: { ...(previous[pipeline] ?? {}), [key]: value } }))}
          />
        )}
        {picksSheet && table !== undefined && outline !== undefined && outline.documentId === table.documentId ? (
          <SheetPicker name={table.file.name} outline={outline.outline} sheet={formValues.sheet ?? ''} columns={columnsOf(formValues.columns)} onChange={pickRows} />
        ) : null}
        <p id="estimate" aria-live="polite">
          {estimate === undefined
            ? ''
            : typeof estimate === 'string'
              ? `Not startable as it is: ${estimate}`
              : `This job reserves ${estimate.pages} ${estimate.pages === 1 ? 'page' : 'pages'} (one per file until they are read)` +
                (estimate.priced ? ` and ${estimate.credits} credits of your ${estimate.balance}${estimate.credits > estimate.balance ? ': not enough' : ''}.` : '.')}
        </p>
        <button type="submit" disabled={busy || picked.length === 0}>
          Upload and start job
        </button>
      </form>
      <ErrorText message={error} id="submit-error" />
    </Page>
  );
}
