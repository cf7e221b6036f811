/* global document, window, fetch, setTimeout, AbortController, URLSearchParams */
// The dashboard: API key, job list, uploads with tus, one job followed live over SSE, results, search.
import { ApiError, apiJson, apiKey, authHeaders, followEvents, setApiKey } from './api.js';

const TERMINAL = new Set(['succeeded', 'partially_succeeded', 'failed', 'cancelled']);
const TERMINAL_EVENTS = new Set(['job.completed', 'job.failed', 'job.cancelled']);
const REFRESH_MS = 2_000;
/** A dropped connection costs at most one chunk: the upload resumes at the server's offset. */
const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

let chosen = [];
let followed; // { id, abort: AbortController }
/** The list's items by job id, reused on refresh so a focused button keeps its focus. */
const jobItems = new Map();

/** Sets a message only when it changes, so an alert region does not repeat itself. */
function say(id, text) {
  if ($(id).textContent !== text) $(id).textContent = text;
}

function eta(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/** "2 of 3 pages, 1 of 2 documents, ETA 4 s"; an ended job has no ETA, a job still counting its pages no page total. */
function progressText(p, ended = false) {
  const pages = p.pagesTotal > 0 || ended ? `${p.pagesDone} of ${p.pagesTotal} pages` : `${p.pagesDone} pages (counting)`;
  const text = `${pages}, ${p.documentsDone} of ${p.documentsTotal} documents`;
  return ended ? text : `${text}, ETA ${eta(p.etaSeconds)}`;
}

function showStatus(node, status) {
  node.textContent = status.replaceAll('_', ' ');
  node.className = `status ${status}`;
}

// --- API key ---------------------------------------------------------------------------------

/** Auth is on when the API refuses a request without credentials. */
async function detectAuth() {
  const response = await fetch('/v1/jobs?limit=1');
  return response.status === 401;
}

function keyRefused(error) {
  if (!(error instanceof ApiError) || error.code !== 'unauthorized') return false;
  $('auth').hidden = false;
  say('key-error', apiKey() === '' ? 'Enter an API key to see the jobs.' : `The key was refused: ${error.message}`);
  return true;
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey($('key').value.trim());
  $('key').value = '';
  $('key-error').textContent = '';
  void refreshJobs();
});
$('forget-key').addEventListener('click', () => {
  setApiKey('');
  $('jobs').replaceChildren();
  jobItems.clear();
  keyRefused(new ApiError('', 'unauthorized', 401));
});

// --- Jobs ------------------------------------------------------------------------------------

function jobItem(job) {
  const item = el('li');
  item.dataset.jobId = job.id;
  const status = el('span', { className: 'status' });
  const progress = el('progress', { max: 100 });
  progress.setAttribute('aria-label', `Progress of job ${job.id}`);
  const open = el('button', { type: 'button', textContent: 'Open' });
  open.addEventListener('click', () => void selectJob(job.id));
  item.append(el('div', { className: 'meta' }, el('code', { textContent: job.id }), status, el('span', { className: 'summary' }), open), progress);
  return item;
}

function renderJob(item, job) {
  showStatus(item.querySelector('.status'), job.status);
  item.querySelector('.summary').textContent = progressText(job.progress, TERMINAL.has(job.status));
  item.querySelector('progress').value = job.progress.percent;
}

async function refreshJobs() {
  try {
    const { items } = await apiJson('/v1/jobs?limit=20');
    say('key-error', '');
    say('jobs-error', '');
    const shown = items.map((job) => {
      const item = jobItems.get(job.id) ?? jobItem(job);
      jobItems.set(job.id, item);
      renderJob(item, job);
      return item;
    });
    // Only a changed order moves the items: moving one would drop its focus.
    const list = $('jobs');
    if (shown.length !== list.children.length || shown.some((item, i) => list.children[i] !== item)) list.replaceChildren(...shown);
    for (const id of jobItems.keys()) if (!items.some((job) => job.id === id)) jobItems.delete(id);
    $('jobs-empty').hidden = items.length > 0;
  } catch (error) {
    if (!keyRefused(error)) say('jobs-error', `Cannot list the jobs: ${error.message}`);
  }
}

// --- One job, followed live ------------------------------------------------------------------

function renderFollowed(job) {
  showStatus($('job-status'), job.status);
  $('job-progress').value = job.progress.percent;
  $('job-summary').textContent = progressText(job.progress, TERMINAL.has(job.status));
  $('cancel').disabled = TERMINAL.has(job.status);
  $('show-results').disabled = !TERMINAL.has(job.status);
}

async function selectJob(id) {
  followed?.abort.abort();
  const abort = new AbortController();
  followed = { id, abort };
  $('job').hidden = false;
  $('job-title').textContent = `Job ${id}`;
  $('job-error').textContent = '';
  $('results').replaceChildren();
  try {
    renderFollowed(await apiJson(`/v1/jobs/${encodeURIComponent(id)}`));
  } catch (error) {
    say('job-error', error.message);
    return;
  }
  await followEvents(`/v1/jobs/${encodeURIComponent(id)}/events`, {
    signal: abort.signal,
    isDone: (frame) => TERMINAL_EVENTS.has(frame.event),
    onError: (error) => say('job-error', error.message),
    onEvent(frame) {
      const event = JSON.parse(frame.data);
      $('job-progress').value = event.progress.percent;
      $('job-summary').textContent = progressText(event.progress, TERMINAL_EVENTS.has(event.type));
      if (event.type === 'job.started') showStatus($('job-status'), 'running');
    },
  });
  // The terminal event says the job ended; its record says how (succeeded, partially, …).
  if (abort.signal.aborted) return;
  try {
    renderFollowed(await apiJson(`/v1/jobs/${encodeURIComponent(id)}`));
  } catch (error) {
    say('job-error', error.message);
  }
}

$('cancel').addEventListener('click', async () => {
  try {
    renderFollowed(await apiJson(`/v1/jobs/${encodeURIComponent(followed.id)}/cancel`, { method: 'POST' }));
  } catch (error) {
    say('job-error', error.message);
  }
});

$('show-results').addEventListener('click', async () => {
  try {
    const { items } = await apiJson(`/v1/jobs/${encodeURIComponent(followed.id)}/results`);
    $('results').replaceChildren(
      ...items.map((doc) =>
        el(
          'article',
          { className: 'result' },
          el('h3', { textContent: `${doc.source}: ${doc.status.replaceAll('_', ' ')}, ${doc.pageCount ?? '?'} pages` }),
          doc.error ? el('p', { className: 'error', textContent: `${doc.error.code}: ${doc.error.message}` }) : '',
          el('pre', { textContent: doc.pages.map((page) => page.text).join('\n\n') }),
        ),
      ),
    );
  } catch (error) {
    say('job-error', error.message);
  }
});

// --- Uploads ---------------------------------------------------------------------------------

function choose(files) {
  chosen = [...files].map((file) => ({ file, progress: el('progress', { max: 100, value: 0 }), note: el('span') }));
  $('uploads').replaceChildren(
    ...chosen.map(({ file, progress, note }) => {
      progress.setAttribute('aria-label', `Upload of ${file.name}`);
      return el('li', {}, el('span', { textContent: `${file.name} (${file.size} bytes) ` }), note, progress);
    }),
  );
  $('start').disabled = chosen.length === 0;
}

/** The `detail` of a problem document, or the body as it is. */
function detailOf(body) {
  if (!body) return undefined;
  try {
    return JSON.parse(body).detail ?? body;
  } catch {
    return body;
  }
}

/** Uploads one file with tus; answers its upload id. */
function upload({ file, progress, note }) {
  return new Promise((resolve, reject) => {
    const tusUpload = new window.tus.Upload(file, {
      endpoint: new URL('/v1/uploads', window.location.href).href,
      headers: authHeaders(),
      chunkSize: UPLOAD_CHUNK_BYTES,
      retryDelays: [0, 1_000, 3_000],
      removeFingerprintOnSuccess: true,
      metadata: { filename: file.name, filetype: file.type },
      onProgress(sent, total) {
        progress.value = total > 0 ? (100 * sent) / total : 0;
        note.textContent = `${Math.round(progress.value)}% `;
      },
      onSuccess() {
        note.textContent = 'uploaded ';
        resolve(tusUpload.url.split('/').pop());
      },
      onError(error) {
        note.textContent = 'failed ';
        reject(new Error(`${file.name}: ${detailOf(error.originalResponse?.getBody()) ?? error.message}`));
      },
    });
    tusUpload.start();
  });
}

$('files').addEventListener('change', () => choose($('files').files));
$('drop').addEventListener('dragover', (event) => {
  event.preventDefault();
  $('drop').classList.add('over');
});
$('drop').addEventListener('dragleave', () => $('drop').classList.remove('over'));
$('drop').addEventListener('drop', (event) => {
  event.preventDefault();
  $('drop').classList.remove('over');
  choose(event.dataTransfer.files);
});

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('start').disabled = true;
  $('upload-error').textContent = '';
  try {
    const uploads = await Promise.all(chosen.map(upload));
    const job = await apiJson('/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ uploads }) });
    choose([]);
    $('files').value = '';
    await refreshJobs();
    void selectJob(job.id);
  } catch (error) {
    say('upload-error', error.message);
    $('start').disabled = chosen.length === 0;
  }
});

// --- Search ----------------------------------------------------------------------------------

/** A hit: the file's name, the page, the document's id, and the snippet with its «marks» shown as <mark>. */
function hitItem(hit) {
  const snippet = el('p');
  for (const [i, piece] of hit.snippet.split(/[«»]/).entries()) snippet.append(i % 2 === 1 ? el('mark', { textContent: piece }) : piece);
  return el('li', {}, el('strong', { textContent: hit.name }), ` page ${hit.page} `, el('code', { textContent: hit.documentId }), snippet);
}

$('search-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('search-error').textContent = '';
  try {
    const { items } = await apiJson(`/v1/search?${new URLSearchParams({ q: $('search-q').value })}`);
    $('search-hits').replaceChildren(...items.map(hitItem));
    say('search-summary', items.length === 0 ? 'No page holds all these words.' : `${items.length} page(s), best first.`);
  } catch (error) {
    if (!keyRefused(error)) say('search-error', error.message);
  }
});

// --- Start -----------------------------------------------------------------------------------

async function refreshForever() {
  await refreshJobs();
  setTimeout(() => void refreshForever(), REFRESH_MS);
}

$('auth').hidden = !(await detectAuth().catch(() => false));
void refreshForever();
