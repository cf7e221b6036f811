// Files of a dropped or chosen folder, walked recursively, each named by its path inside what was
// dropped ("invoices/2024/a.pdf") so the list shows where it came from (the server stores the
// last part as the document's name: it never takes paths from a client).

/** A file and the name its document gets: its path inside the dropped folder, or its own name. */
export interface NamedFile {
  file: File;
  name: string;
}

/** Entries the browser exposes for dropped items (the File and Directory Entries API). */
interface Entry {
  isFile: boolean;
  isDirectory: boolean;
  fullPath: string;
}
interface FileEntry extends Entry {
  file(success: (file: File) => void, failure: (error: unknown) => void): void;
}
interface DirectoryEntry extends Entry {
  createReader(): { readEntries(success: (entries: Entry[]) => void, failure: (error: unknown) => void): void };
}

/**
 * The characters the server takes out of every file name (src/server/uploads/file-name.ts):
 * controls, and the invisible bidi and zero-width ones that make a name read other than it is
 * (U+202E shows `invoice\u202Efdp.exe` as `invoiceexe.pdf`). Taken out here too, so the list
 * shows each file as the job will name it, never a reversed extension.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;

/** A picked file's name as shown and sent: without the characters the server removes. */
export function shownName(name: string): string {
  return name.replace(UNSAFE, '');
}

/** Files over this many in one drop are refused: a mistaken drop of a home folder must not freeze the tab. */
const MAX_DROPPED_FILES = 10_000;

function fileOf(entry: FileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every entry of a directory: `readEntries` answers in batches (100 in Chromium) until an empty one. */
async function entriesOf(directory: DirectoryEntry): Promise<Entry[]> {
  const reader = directory.createReader();
  const all: Entry[] = [];
  for (;;) {
    const batch = await new Promise<Entry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: Entry, into: NamedFile[]): Promise<void> {
  if (into.length > MAX_DROPPED_FILES) throw new Error(`more than ${MAX_DROPPED_FILES} files dropped at once: drop fewer, or use the CLI (ream run <folder>)`);
  if (entry.isFile) {
    into.push({ file: await fileOf(entry as FileEntry), name: shownName(entry.fullPath.replace(/^\/+/, '')) });
    return;
  }
  if (!entry.isDirectory) return;
  const children = await entriesOf(entry as DirectoryEntry);
  children.sort((a, b) => (a.fullPath < b.fullPath ? -1 : a.fullPath > b.fullPath ? 1 : 0));
  for (const child of children) await walk(child, into);
}

/** The files of a drop, folders walked (in name order); browsers without entries give the plain files. */
export async function droppedFiles(transfer: DataTransfer): Promise<NamedFile[]> {
  // Entries must be taken while the drop event runs: the list is emptied once it returns.
  const entries = Array.from(transfer.items, (item) => (item.kind === 'file' ? (item.webkitGetAsEntry() as Entry | null) : null));
  if (entries.every((entry) => entry === null)) return Array.from(transfer.files, (file) => ({ file, name: shownName(file.name) }));
  const files: NamedFile[] = [];
  for (const entry of entries) if (entry !== null) await walk(entry, files);
  return files;
}

/** The files an `<input type=file>` chose: a folder input's carry their path inside the folder. */
export function chosenFiles(list: FileList | null): NamedFile[] {
  return Array.from(list ?? [], (file) => ({ file, name: shownName(file.webkitRelativePath === '' ? file.name : file.webkitRelativePath) }));
}
