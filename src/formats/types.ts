import type { ErrorCode } from '../errors.ts';
import type { JsonValue } from '../json.ts';

/** One cell of a table: text, a number, a boolean, or empty (`null`). Dates are ISO 8601 text. */
export type CellValue = string | number | boolean | null;

/**
 * The text of one page. `page` is 1-based, as viewers and `pdftotext -f/-l` number pages. A
 * table's page is one data row (`page` is its 1-based number, header excluded); its `text` is
 * `column: value` lines and `cells` its values by column name.
 */
export interface PageText {
  page: number;
  text: string;
  /** Tables only: the row's values by column name (column order is `DocumentMetadata.columns`). */
  cells?: Record<string, CellValue>;
  /** Workbooks read as sheets (`tablePages: "sheets"`): the sheet this page's rows are from. */
  sheet?: string;
  /**
   * Where the text came from: the file's own text layer, or OCR of the rendered page. Set by
   * readers that can OCR (PDF); absent for formats that only have text.
   */
  source?: 'text' | 'ocr';
  /** OCR pages only: tesseract's mean word confidence, 0–100. */
  confidence?: number;
  /** OCR pages only: time spent rendering and recognising the page, in ms. */
  ocrMs?: number;
  /** OCR pages only: the engine that read the page (see {@link OcrEngine}). */
  ocrEngine?: 'tesseract' | 'tesseractjs';
}

/**
 * Something about a page the user must know although it did not fail. `needs_ocr`: the page is
 * an image with no usable text, and OCR was switched off (`ocr: "never"`), so its text is empty.
 * `no_text_found`: an image was read by OCR and no word was found on it (a blank or unreadable
 * picture): its text is empty, and the document says so rather than succeed silently.
 * `resource_limit`: an attachment of the message on that page was not read as a document of its
 * own (past `maxAttachments`, `maxAttachmentBytes` or `maxAttachmentDepth`).
 * `invalid_image`: the image file was cut short; what it holds was read, the rest is missing
 * (on its first page).
 * `analysis_incomplete`: a document-level analysis step (a model's reduce prompt) failed; what
 * the chunks gave stands, combined without it (on the document's first page).
 */
export interface PageWarning {
  page: number;
  code: 'needs_ocr' | 'no_text_found' | 'resource_limit' | 'invalid_image' | 'invalid_email' | 'analysis_incomplete';
  message: string;
}

/** A page that could not be read while its siblings could. */
export interface PageFailure {
  page: number;
  code: ErrorCode;
  message: string;
}

export interface DocumentMetadata {
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  creator?: string;
  producer?: string;
  /** ISO 8601. */
  createdAt?: string;
  /** ISO 8601. */
  modifiedAt?: string;
  /** e.g. `1.7` for PDF. */
  formatVersion?: string;
  /** Tables only: the column names, in order (from the header row; blank ones `column_<n>`, repeats `<name>_2`). */
  columns?: string[];
  /** Workbooks only: the name of the sheet that was read (a page per row). */
  sheet?: string;
  /** Workbooks read as sheets: the sheets with a header row, in order (each is one page or more). */
  sheets?: string[];
  /** How the document was cut into pages when it has none of its own (Word, HTML, e-mail), in words. */
  pagination?: string;
  /**
   * What one page is, for documents without fixed pages: `document` (the whole of it: HTML,
   * e-mail, a Word document without breaks), `section` (a Word document's text between two of
   * its page or section breaks) or `sheet` (a table's rows as text, a page per sheet of up to
   * 1,000 rows). Absent where pages are the file's own (PDF, images) or a table's rows.
   */
  pageUnit?: 'document' | 'section' | 'sheet';
  /** E-mail only: the sender, as `Name <address>`. */
  from?: string;
  /** E-mail only: the recipients (To, then Cc), as `Name <address>`. */
  to?: string[];
  /** E-mail only: the attachments' file names, in the message's order. */
  attachments?: string[];
}

export interface Inspection {
  mediaType: string;
  pageCount: number;
  metadata: DocumentMetadata;
}

export interface ReadLimits {
  /** Refuse files larger than this (`file_too_large`). */
  maxBytes: number;
  /** Refuse documents with more pages than this (`too_many_pages`). */
  maxPages: number;
}

/** What to read of a document that holds more than one thing (a job option, the same for every document). */
export interface ReadOptions {
  /** Workbooks: the sheet to read, by name. Default the first (rows), every one (sheets). Other formats ignore it. */
  sheet?: string;
  /**
   * Tables (CSV, XLSX): `rows`, a page per data row with its `cells` (the `rows` pipeline), or
   * `sheets`, a page per sheet whose text is its rows tab-separated, header first, in pages of
   * at most 1,000 rows (the document pipelines: search and analyzers read a sheet as text).
   * Default `rows`. Other formats ignore it.
   */
  tablePages?: 'rows' | 'sheets';
  /**
   * Tables read as rows: the columns each row keeps (its text and `cells`), by header name, in
   * the order given. Default every column. A name the table's header lacks is `validation_failed`.
   */
  columns?: string[];
  /**
   * Tables read as rows with rules in the reading thread (`Pipeline.rowRules`): each batch also
   * keeps its rows as the CSV records `ream rows` writes (exports/rows-csv.ts). Default false.
   */
  tableCsv?: boolean;
  /** PDFs and images: when pages are read by OCR (default {@link OcrOptions} `auto`, `eng`, 300 DPI). Other formats ignore it. */
  ocr?: OcrOptions;
  /** HTML, Word and e-mail: keep each link's address after its text (`text [https://…]`). Default false: the text alone. */
  links?: boolean;
  /** PDFs: the text engine (default `pdfium`; see {@link PdfEngine}). Other formats ignore it. */
  pdfEngine?: PdfEngine;
  /** PDFs: the password that opens an encrypted file (its user or owner password). Other formats ignore it. */
  pdfPassword?: string;
  /**
   * The file's sha256, when the caller knows it (a stored document's, set per document by the
   * engine): tables key what a process keeps of a file between reads (row marks, sheet counts) by
   * it rather than by path, size and time, which a file rewritten in place can keep.
   */
  sha256?: string;
  /**
   * The document's metadata as its inspection gave it, when the pages read are of a document
   * inspected before (a job's chunks): a reader whose way of cutting pages changed between
   * versions (text) checks that it cuts them as they were counted, else `pages_changed`.
   */
  inspected?: DocumentMetadata;
}

/** Which engine reads a PDF's text: PDFium (WebAssembly; pdf.js behind it for what it cannot read) or pdf.js alone. */
export type PdfEngine = 'pdfium' | 'pdfjs';

/**
 * How much of a document's inner files (an e-mail's attachments) become documents of their own.
 * Past a limit an inner file is refused with `resource_limit`, its siblings and its parent read.
 */
export interface AttachmentLimits {
  /** Attachments read per message (`maxAttachments`, default 100); the rest are refused. */
  maxFiles: number;
  /** Bytes of one attachment, decoded (`maxAttachmentBytes`, default 100 MiB). */
  maxFileBytes: number;
  /** Messages inside messages (`maxAttachmentDepth`, default 3): a message that deep has its attachments refused. */
  maxDepth: number;
}

/** One inner file written out by {@link DocumentFormat.unpack}. `index` is 1-based, in the document's order. */
export interface InnerFile {
  index: number;
  /** A plain file name (no folders): the attachment's own, else `attachment-<index>` with an extension for its type. */
  name: string;
  path: string;
  size: number;
}

/** An inner file that was not written out, and why. */
export interface InnerFileRefusal {
  index: number;
  name: string;
  /** `resource_limit`: past a limit; `invalid_email`: its part cannot be decoded. */
  code: 'resource_limit' | 'invalid_email';
  message: string;
}

export interface Unpacked {
  files: InnerFile[];
  refused: InnerFileRefusal[];
}

/** Pages `[from, to)`, 0-based. */
export interface PageRange {
  from: number;
  to: number;
}

export interface Extraction {
  pages: PageText[];
  failures: PageFailure[];
  /** Pages read with a caveat (see {@link PageWarning}); absent when there are none. */
  warnings?: PageWarning[];
}

/**
 * A batch of a table's rows read and run through rules in the reading thread, as the chunk's
 * checkpoint stores it (`PackedChunkOutput` in pipeline/merge.ts): the failed rows, the field
 * names, the count of rows read, and `body`, the JSON text of `{ pages, fields }`.
 */
/** `csv`: the rows as the CSV records `ream rows` writes (exports/rows-csv.ts), when asked for (`ReadOptions.tableCsv`). */
/**
 * A table row as a packed checkpoint stores it (formats/sheet/packed-rows.ts): its values in the
 * order of the body's `columns`, without the `cells` and `text` made of them (`unpackChunk`).
 */
export type StoredRow = { page: number; values: CellValue[] };

export type PackedRows = { failures: PageFailure[]; fieldNames: string[]; pagesRead: number; body: string; csv?: string };

/** When a page is rendered and recognised: see `ocr` in README's options. */
export type OcrMode = 'auto' | 'always' | 'never';

/** How a reader that can OCR uses it. */
export interface OcrOptions {
  /** `auto`: pages with no usable text layer and enough image area; `always`: every page; `never`: none (such pages get a `needs_ocr` warning). */
  mode: OcrMode;
  /** Tesseract language codes (`eng`, `fra`, `deu`), each from its `@tesseract.js-data/*` npm package. */
  languages: readonly string[];
  /** Rendering resolution in dots per inch. */
  dpi: number;
  /** The engine (default `auto`). */
  engine?: OcrEngine;
}

/**
 * `tesseract`: the installed program (PATH or `REAM_TESSERACT`); `tesseractjs`: tesseract.js
 * (WebAssembly, always there); `auto`: the program when it answers, else tesseract.js.
 */
export type OcrEngine = 'auto' | 'tesseract' | 'tesseractjs';


/**
 * A reader for one kind of document. `inspect` validates and counts pages (throwing
 * `ReamError` with the matching code for bad input); `extract` reads a page range.
 * Readers that need CPU run their work in the thread pool, never on the event loop.
 */
export interface DocumentFormat {
  readonly mediaType: string;
  /** Lower-case, with the dot: `.pdf`. */
  readonly extensions: readonly string[];
  inspect(path: string, limits: ReadLimits, signal?: AbortSignal, options?: ReadOptions): Promise<Inspection>;
  /**
   * `onPageRead`, when given, hears each page of the range (1-based) as it is done, read or
   * failed, before the whole range returns: readers whose pages take long (OCR) call it, so that
   * progress moves within a chunk of scans. Others may never call it.
   */
  extract(path: string, range: PageRange, signal?: AbortSignal, options?: ReadOptions, onPageRead?: PageReadListener): Promise<Extraction>;
  /**
   * Writes the document's inner files that are documents of their own (an e-mail's attachments)
   * into `dir`, within `limits` (depth is the caller's to judge). Absent for formats without any.
   */
  unpack?(path: string, dir: string, limits: Pick<AttachmentLimits, 'maxFiles' | 'maxFileBytes'>, signal?: AbortSignal): Promise<Unpacked>;
  /** The 1-based page drawn as a PNG at `dpi`, for viewing; absent for formats without pages to draw. */
  renderPage?(path: string, page: number, dpi: number, signal?: AbortSignal): Promise<Buffer>;
  /** Tables (CSV, XLSX): each sheet's name and header columns, for picking `sheet` and `columns`; absent for other formats. */
  outline?(path: string, signal?: AbortSignal): Promise<TableOutline>;
  /**
   * Tables read as rows: the rows of `range`, each run through `rules` (rule specs, `[]` for
   * none) in the thread that read it, handed back packed. The rows never become objects on the
   * calling thread; what it gets is one text to store. Absent for other formats.
   */
  extractPacked?(path: string, range: PageRange, rules: JsonValue, signal?: AbortSignal, options?: ReadOptions): Promise<PackedRows>;
}

/**
 * A table's sheets, in workbook order, each with its header's column names (empty for a sheet
 * without a header row). A CSV is one sheet whose name is `null`. A workbook's sheet that cannot
 * be read (its part missing or broken) is listed with `error` and no columns.
 */
export type TableOutline = { sheets: Array<{ name: string | null; columns: string[]; error?: { code: ErrorCode; message: string } }> };

/** Hears a page (1-based) of a range being read as it is done: see {@link DocumentFormat.extract}. */
export type PageReadListener = (page: number) => void;

/** Per-call options of {@link TaskRunner.run}. */
export interface TaskRunOptions {
  /** Aborting it ends the task with `cancelled` (a running task's thread is stopped). */
  signal?: AbortSignal;
  /** Overrides the runner's per-task time limit, in ms. */
  timeoutMs?: number;
  /**
   * Bytes the task may hold outside the heap on top of the runner's per-thread budget: the
   * file it reads into memory, so that a large but honest file is not mistaken for a bomb.
   */
  extraMemoryBytes?: number;
}

/**
 * What a format needs from its host to run CPU work off the event loop: the thread pool
 * (`src/runtime/thread-pool.ts`) is one. `input` and the result cross a thread boundary, so
 * they are plain data; a failure arrives as a `ReamError` with its code intact.
 */
export interface TaskRunner {
  run<T>(task: string, input: JsonValue, options?: TaskRunOptions): Promise<T>;
}

/** Runs one named task inside a worker thread. Throw `ReamError`s: their code crosses back. */
export type TaskHandler = (input: JsonValue) => Promise<JsonValue> | JsonValue;

/**
 * A module the pool's worker loads to serve tasks: it exports `tasks`, keyed by the full task
 * name (`pdf.extract`). Names start with the format's prefix and a dot.
 */
export interface TaskModule {
  tasks: Readonly<Record<string, TaskHandler>>;
  /**
   * Bytes the module holds that never shrink (WebAssembly memory). When the total passes the
   * pool's cap after a task, the thread is retired and a fresh one takes its place.
   */
  heldBytes?: () => number;
}
