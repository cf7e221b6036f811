import type { JobEstimateView, JsonObject, PipelineView, PriorityName, ReamClient, TableOutlineView } from '@client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Bar, ErrorText, Page } from '../components/common.tsx';
import { OptionsForm } from '../components/OptionsForm.tsx';
import { SheetPicker } from '../components/SheetPicker.tsx';
import { estimateText } from '../estimate-text.ts';
import { chosenFiles, droppedFiles } from '../folder-files.ts';
import { bytes, messageOf, plural } from '../format.ts';
import { fieldsOf, optionsOf, valuesOf, type FormValues } from '../option-form.ts';
import { navigate } from '../router.ts';
import { MAX_JOB_FILES, useUploads } from '../upload-queue.ts';

/** Until the server has said which pipelines it has: the built-in ones, options as JSON. */
const BUILT_IN: PipelineView[] = ['extract', 'rules', 'llm', 'rows', 'report'].map((name) => ({ name, optionsSchema: { type: 'object' } }));
const PRIORITIES: PriorityName[] = ['low', 'normal', 'high', 'critical'];

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

/**
 * Drop files: each is uploaded over tus at once (resumable, with its progress) and the server
 * counts its pages for the estimate; the job is started on the stored documents.
 */
export function Submit({ client }: { client: ReamClient }) {
  const { picked, add, remove, retry } = useUploads(client);
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

  // Options typed as JSON before the server said which fields the pipeline has: its form takes
  // them over (the JSON box goes), and what it cannot hold is said, not dropped unseen.
  useEffect(() => {
    if (fields.length === 0 || options.trim() === '') return;
    try {
      const carried = valuesOf(fields, parseOptions(options));
      setValues((previous) => ({ ...previous, [pipeline]: { ...carried.values, ...(previous[pipeline] ?? {}) } }));
      setOptions('');
      if (carried.unknown.length > 0) setError(`Options ${carried.unknown.join(', ')} are not options of ${pipeline} and were left out`);
    } catch (failure) {
      setError(`The options typed as JSON do not read (${messageOf(failure)}): enter them again in the form`);
      setOptions('');
    }
  }, [pipelines]);

  // What the job would reserve, asked again as files are stored and the pipeline and options
  // change: the stored documents' pages counted by the server, a page for each file still uploading.
  const [estimate, setEstimate] = useState<JobEstimateView | string | undefined>(undefined);
  const optionsKey = JSON.stringify(values[pipeline] ?? {});
  // Once each: two files of the same bytes are one document, which the job holds once.
  const storedIds = [...new Set(picked.flatMap((item) => (item.documentId === undefined ? [] : [item.documentId])))];
  // Files whose upload failed are in neither count: they block the start until retried or removed.
  const failedUploads = picked.filter((item) => item.state === 'failed').length;
  const unstored = picked.filter((item) => item.documentId === undefined && item.state !== 'failed').length;
  const names = new Map(picked.flatMap((item) => (item.documentId === undefined ? [] : [[item.documentId, item.name] as const])));
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
      } catch (failure) {
        // Said where the estimate is, rather than leave the estimate of options no longer there.
        if (current) setEstimate(`the options do not read: ${messageOf(failure)}`);
        return;
      }
      if (storedIds.length === 0 && unstored === 0) {
        setEstimate(undefined); // every file failed: nothing to estimate
        return;
      }
      const files = storedIds.length === 0 ? { documents: unstored } : { documentIds: storedIds, ...(unstored === 0 ? {} : { documents: unstored }) };
      client.estimate({ ...files, pipeline, options: asked }).then(
        (answer) => current && setEstimate(answer),
        (failure: unknown) => current && setEstimate(messageOf(failure)),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, storedIds.join(' '), unstored, pipeline, optionsKey, options, pipelines]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const addFiles = (files: Parameters<typeof add>[0]): void => {
    const { again, over } = add(files);
    setNotice([
      again.length === 0 ? '' : `Already in the list, not added again: ${again.join(', ')}.`,
      over === 0 ? '' : `A job takes at most ${MAX_JOB_FILES.toLocaleString('en')} files: ${plural(over, 'file')} past them ${over === 1 ? 'was' : 'were'} not added (start another job for them).`,
    ].filter((line) => line !== '').join(' '));
  };
  // The input is emptied after each choice: the same file chosen again (after a removal) is a change too.
  const choose = (input: HTMLInputElement): void => {
    addFiles(chosenFiles(input.files));
    input.value = '';
  };

  // A spreadsheet for a pipeline with a `sheet` option: once stored, its sheets and columns listed.
  const [outline, setOutline] = useState<{ documentId: string; outline: TableOutlineView } | undefined>(undefined);
  const picksSheet = fields.some((field) => field.key === 'sheet');
  const table = picked.find((item) => TABLE_FILE.test(item.file.name));
  useEffect(() => {
    if (!picksSheet || table?.documentId === undefined) return;
    if (outline?.documentId === table.documentId) return;
    const documentId = table.documentId;
    client.inspectDocument(documentId).then(
      (answer) => setOutline({ documentId, outline: answer }),
      (failure: unknown) => setError(`The sheets of ${table.file.name} could not be read: ${messageOf(failure)}`),
    );
  }, [client, picksSheet, table?.documentId]);
  // The sheet and columns picked belong to the table they were picked from: another table (or
  // none) starts without them.
  const pickedFrom = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (pickedFrom.current !== undefined && pickedFrom.current !== table?.key) {
      setValues((previous) => Object.fromEntries(Object.entries(previous).map(([name, { sheet: _sheet, columns: _columns, ...rest }]) => [name, rest])));
    }
    pickedFrom.current = table?.key;
  }, [table?.key]);
  const pickRows = (sheet: string, columns: string[]): void =>
    setValues((previous) => ({ ...previous, [pipeline]: { ...(previous[pipeline] ?? {}), sheet, columns: columns.length === 0 ? '' : JSON.stringify(columns) } }));
  const [over, setOver] = useState(false);

  const [webhookUrl, setWebhookUrl] = useState('');
  const [webhookSecret, setWebhookSecret] = useState('');
  const allStored = storedIds.length > 0 && unstored === 0 && failedUploads === 0;
  /** Why Start job is disabled, when a file is why. */
  const refusedUploads = picked.filter((item) => item.state === 'failed' && item.refused === true).length;
  const notYet = failedUploads > 0
    ? refusedUploads === failedUploads
      ? `Remove the ${plural(failedUploads, 'file')} the server refused to start the job.`
      : `Retry or remove the ${plural(failedUploads, 'file')} whose upload failed to start the job.`
    : unstored > 0 ? `Start job waits for ${plural(unstored, 'upload')} to finish.` : '';

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
    if (!allStored) return; // the button is disabled until then
    setBusy(true);
    try {
      const webhook = webhookUrl.trim() === '' ? {} : { webhook: { url: webhookUrl.trim(), ...(webhookSecret === '' ? {} : { secret: webhookSecret }) } };
      const job = await client.submit({ documents: storedIds, pipeline, options: parsed, priority, ...webhook });
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
            droppedFiles(event.dataTransfer).then(addFiles, (failure: unknown) => setError(messageOf(failure)));
          }}
        >
          Drop files or folders here, or choose files
          <input id="files" type="file" multiple onChange={(event) => choose(event.currentTarget)} />
        </label>
        <label for="folder" class="folder-pick">
          Or choose a folder (every file in it and in its subfolders)
          <input id="folder" type="file" multiple {...FOLDER_INPUT} onChange={(event) => choose(event.currentTarget)} />
        </label>
        <p id="upload-notice" role="status">
          {notice}
        </p>
        <ul class="uploads" aria-label="Files to upload">
          {picked.map((item) => (
            <li key={item.key}>
              <span class="name">{item.name}</span> <span class="muted">{bytes(item.file.size)}</span>
              <Bar label={`Upload of ${item.name}`} value={item.sent} max={Math.max(1, item.file.size)}>
                {item.state}
              </Bar>
              {item.error === '' ? null : (
                <span class="error" role="alert">
                  {item.error}
                </span>
              )}
              {item.state === 'failed' && item.refused !== true ? (
                <button type="button" disabled={busy} onClick={() => retry(item.key)} aria-label={`Retry the upload of ${item.name}`}>
                  Retry
                </button>
              ) : null}
              <button
                type="button"
                disabled={busy}
                onClick={(event) => {
                  // Focus goes to the next file's Remove (or the file chooser), not to the page's body.
                  const row = event.currentTarget.closest('li');
                  const next = (row?.nextElementSibling ?? row?.previousElementSibling)?.querySelector<HTMLElement>('button:last-of-type');
                  remove(item.key);
                  (next ?? document.getElementById('files'))?.focus();
                }}
                aria-label={`Remove ${item.name}`}
              >
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
              : estimateText(estimate, unstored, names)}
        </p>
        <button type="submit" disabled={busy || !allStored} aria-describedby="start-blocked">
          Start job
        </button>
        <p id="start-blocked" class="muted" aria-live="polite">
          {picked.length > 0 ? notYet : ''}
        </p>
      </form>
      <ErrorText message={error} id="submit-error" />
    </Page>
  );
}
