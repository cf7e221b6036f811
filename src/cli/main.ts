import { tracingRequested } from '../tracing/requested.ts';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { toReamError } from '../errors.ts';
import { registerClientCommands } from './client-commands.ts';
import { registerKeysCommand } from './keys-command.ts';
import { registerTenantsCommand } from './tenants-command.ts';
import { registerGcCommand } from './gc-command.ts';
import { registerMigrateCommand } from './migrate-command.ts';
import { addLlmFlags, formatJobStop, formatModelUsage, llmJobOptions, runNextStep } from './llm-flags.ts';
import { addOcrFlags, ocrJobOptions } from './ocr-flags.ts';
import { addPdfFlags, pdfJobOptions } from './pdf-flags.ts';
import { addLocalEngineFlags, localEngineFlags } from './local-engine.ts';
import { positiveInt, positiveNumber } from './parse-flags.ts';
import type { RunOptions, RunSummary } from './run-command.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { registerRowsCommand } from './rows-flags.ts';
import { capYoungGeneration, RUN_YOUNG_GENERATION_MB } from './process-heap.ts';
import { addReportFlags, reportFlags } from './report-flags.ts';
import { registerServeCommand } from './serve-command.ts';
import { interruptSignal } from './signals.ts';
import { printable } from './printable.ts';
import { markCommandProcess } from '../runtime/ream.ts';
import { registerWorkerCommand } from './worker-command.ts';

/** The version in the package's package.json. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string }).version;
}

function formatSummary(s: RunSummary, out: string): string {
  const rate = s.wallSeconds > 0 ? (s.pages / s.wallSeconds).toFixed(1) : '0';
  return [
    `${s.interrupted ? 'interrupted' : 'done'}: ${s.succeeded} succeeded, ${s.partial > 0 ? `${s.partial} partially succeeded, ` : ''}${s.failed} failed` +
      (s.skipped ? `, ${s.skipped} already done (resumed${s.skippedUnsucceeded ? `; ${s.skippedUnsucceeded} of them did not succeed` : ''})` : '') +
      ` of ${s.total} file(s)`,
    `pages: ${s.pages} in ${s.wallSeconds.toFixed(1)} s (${rate} pages/s)`,
    ...(s.usage ? [formatModelUsage(s.usage)] : []),
    ...(s.stopped ? [printable(formatJobStop(s.stopped))] : []),
    `results: ${out}`,
    ...(s.jobId === undefined ? [] : [`job: ${s.jobId}`]),
    ...(s.reports ? [`reports: ${s.reports.total} file(s) in ${s.reports.folder} (${s.reports.written} written now)`] : []),
    ...(s.interrupted ? ['run the same command again to resume where it stopped'] : []),
    ...(!s.interrupted && s.failed + s.partial + s.skippedUnsucceeded > 0 && out !== 'standard output' ? [runNextStep(s.stopped)] : []),
  ].join('\n');
}

export function buildProgram(): Command {
  // What this process opens is a command's, not the library's (see library-use.ts).
  markCommandProcess();
  const program = new Command('ream')
    .description('Process piles of documents concurrently, reliably and resumably.')
    .version(packageVersion(), '-V, --version', 'print ream\'s version')
    // A usage error is one line and a pointer to the help, not the help itself (which buried the error).
    .showHelpAfterError('(add --help for the options)')
    // Commander exits 1 on its own for usage errors; ream's contract is 2 (see `main`). Set
    // before the commands are added: they inherit it.
    .exitOverride();

  const run = addPdfFlags(addOcrFlags(addLlmFlags(program
    .command('run'))))
    .description('extract text, metadata and fields from files, directories or globs into a JSONL file')
    .argument('<inputs...>', 'regular files, directories (read recursively; a pipe or device in one gets a failed line) or glob patterns')
    .option('-o, --out <file>', 'results, one JSON line per file (- for standard output: no resume, the summary on stderr; exit 141 if its reader goes away first)', 'ream-results.jsonl')
    .option('-p, --pipeline <name>', 'pipeline: extract (default), rules or llm (a table row by row: ream rows)')
    .option('--rules <file>', 'JSON file of field rules (implies --pipeline rules)')
    .option('--chunk-pages <n>', 'pages per chunk; chunks of a big file run in parallel (default 50)', positiveInt)
    .option('--max-pages <n>', 'refuse documents with more pages (default 10000)', positiveInt)
    .option('--max-size <MB>', 'refuse larger files (default 1024)', positiveNumber)
    .addOption(new Option('--text <mode>', 'text in each line: per page, one string, or none').choices(['pages', 'full', 'none']).default('pages'))
    .option('--resume', 'skip files already in --out and continue unfinished work (default when --out exists; refused when it is no ream results file)')
    .option('--no-resume', 'start over: truncate --out (whatever file it is)')
    .option('--retry-failed', 'run again the files whose lines in --out say failed or partially_succeeded (only their failed parts: succeeded pages are kept)')
    .option('--no-index', 'do not index the text for search (`ream serve` over this data dir then finds none of it); spares the index\'s CPU and disk writes');
  addReportFlags(run, 'document', 'source, page_count, fields: each field\'s first value, all_fields', 'the file\'s name');
  addLocalEngineFlags(run)
    .action(async (inputs: string[], flags: Record<string, unknown>) => {
      const options: RunOptions = {
        out: flags.out as string,
        dataDir: flags.dataDir as string,
        text: flags.text as RunOptions['text'],
        progress: flags.progress as RunOptions['progress'],
        ...localEngineFlags(flags),
        ...(flags.pipeline === undefined ? {} : { pipeline: flags.pipeline as string }),
        ...(flags.rules === undefined ? {} : { rules: flags.rules as string }),
        ...(flags.chunkPages === undefined ? {} : { chunkPages: flags.chunkPages as number }),
        ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages as number }),
        ...(flags.maxSize === undefined ? {} : { maxSizeMb: flags.maxSize as number }),
        ...(flags.resume === undefined ? {} : { resume: flags.resume as boolean }),
        ...(flags.index === false ? { index: false } : {}),
        ...(flags.retryFailed === true ? { retryFailed: true } : {}),
      };
      const llm = llmJobOptions(flags);
      if (llm) options.llm = llm;
      const ocr = ocrJobOptions(flags);
      if (Object.keys(ocr).length > 0) options.ocr = ocr;
      const report = reportFlags(flags);
      if (report) options.report = report;
      const pdf = pdfJobOptions(flags);
      if (Object.keys(pdf).length > 0) options.pdf = pdf;
      const signal = interruptSignal();
      // Before the engine's modules load: loading them alone grows the young generation from 8 to 32 MB.
      capYoungGeneration(RUN_YOUNG_GENERATION_MB);
      // Loaded when `run` runs, so that the other commands and `--help` start without the engine.
      const { runCommand } = await import('./run-command.ts');
      resultsOnStdout = options.out === '-';
      const summary = await runCommand(inputs, options, signal);
      // With the lines on standard output, the summary goes beside the progress, on stderr.
      (options.out === '-' ? process.stderr : process.stdout).write(`${formatSummary(summary, options.out === '-' ? 'standard output' : options.out)}\n`);
      // A resumed run counts the files an earlier run failed too: 0 only when every file succeeded.
      process.exitCode = summary.interrupted ? 130 : summary.failed + summary.partial + summary.skippedUnsucceeded > 0 ? 1 : 0;
    });

  registerRowsCommand(program);
  registerServeCommand(program);
  registerWorkerCommand(program);
  registerMigrateCommand(program);
  registerGcCommand(program);
  registerClientCommands(program);
  registerKeysCommand(program);
  registerTenantsCommand(program);
  return program;
}

/**
 * `ream help keys create` as `ream keys create --help`: Commander's `help` command looks one
 * word deep, and showed the help of `keys` for it.
 */
function nestedHelp(program: Command, argv: readonly string[]): string[] {
  const [node = '', script = '', first, ...words] = argv;
  if (first !== 'help' || words.length < 2 || words.some((word) => word.startsWith('-'))) return [...argv];
  // A word that names no command: run as a command, for Commander to say which is unknown (exit 2).
  let command = program;
  for (const word of words) {
    const sub = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (!sub) return [node, script, ...words];
    command = sub;
  }
  return [node, script, ...words, '--help'];
}

/** 128 + SIGPIPE (13): what a shell reports for a command killed by a closed pipe. */
const CLOSED_PIPE_EXIT = 141;
/** Set while `ream run -o -` writes its result lines to standard output. */
let resultsOnStdout = false;

/** Entry point of the `ream` binary. Usage errors exit 2, failed documents 1, Ctrl-C 130, result lines cut off by a closed pipe 141. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  // Traces only when the OTEL_* variables ask for them; the SDK loads only then.
  const tracing = tracingRequested() ? await (await import('../tracing/start-tracing.ts')).startTracing() : undefined;
  // `ream … | head`: the reader closed the pipe, having read what it wanted. Stop at once rather
  // than with a stack trace. When that cut `ream run -o -`'s lines short, files were processed
  // whose lines no one got: exit as a command killed by SIGPIPE does (141), never 0, so that
  // `set -o pipefail` sees it. Other output (a listing) was only read in part, by choice.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (resultsOnStdout) {
      process.stderr.write('ream: standard output was closed (EPIPE) before every result line was written; the run stopped [io_error]\n');
      process.exit(CLOSED_PIPE_EXIT);
    }
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  try {
    const program = buildProgram();
    await program.parseAsync(nestedHelp(program, argv));
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help, or the version) already.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const reamError = toReamError(error);
    // The message may name a file: its line breaks and escapes must not forge lines or drive the terminal.
    process.stderr.write(`ream: ${printable(reamError.message)} [${reamError.code}]\n`);
    process.exitCode = 2;
  } finally {
    await tracing?.shutdown(); // sends the spans still buffered
  }
}

