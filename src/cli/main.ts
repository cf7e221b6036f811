import { Command, CommanderError, Option } from 'commander';
import { toReamError } from '../errors.ts';
import { registerClientCommands } from './client-commands.ts';
import { registerKeysCommand } from './keys-command.ts';
import { registerMigrateCommand } from './migrate-command.ts';
import { addLlmFlags, llmJobOptions } from './llm-flags.ts';
import { addOcrFlags, ocrJobOptions } from './ocr-flags.ts';
import { positiveInt, positiveNumber } from './parse-flags.ts';
import type { RunOptions, RunSummary } from './run-command.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerWorkerCommand } from './worker-command.ts';

function formatSummary(s: RunSummary, out: string): string {
  const rate = s.wallSeconds > 0 ? (s.pages / s.wallSeconds).toFixed(1) : '0';
  return [
    `${s.interrupted ? 'interrupted' : 'done'}: ${s.succeeded} succeeded, ${s.failed} failed` +
      (s.skipped ? `, ${s.skipped} already done (resumed)` : '') + ` of ${s.total} file(s)`,
    `pages: ${s.pages} in ${s.wallSeconds.toFixed(1)} s (${rate} pages/s)`,
    ...(s.usage ? [`model: ${s.usage.totalTokens} tokens (${s.usage.promptTokens} prompt + ${s.usage.completionTokens} completion) in ${s.usage.calls} call(s), ${s.usage.cachedCalls} from the cache` +
      (s.usage.costUsd === undefined ? '' : `, $${s.usage.costUsd.toFixed(4)}`)] : []),
    `results: ${out}`,
    ...(s.interrupted ? ['run the same command again to resume where it stopped'] : []),
  ].join('\n');
}

export function buildProgram(): Command {
  const program = new Command('ream')
    .description('Process piles of documents concurrently, reliably and resumably.')
    .showHelpAfterError()
    // Commander exits 1 on its own for usage errors; ream's contract is 2 (see `main`). Set
    // before the commands are added: they inherit it.
    .exitOverride();

  addOcrFlags(addLlmFlags(program
    .command('run')))
    .description('extract text, metadata and fields from files, directories or globs into a JSONL file')
    .argument('<inputs...>', 'files, directories (read recursively) or glob patterns')
    .option('-o, --out <file>', 'results, one JSON line per file', 'ream-results.jsonl')
    .option('-p, --pipeline <name>', 'pipeline: extract (default), rules or llm')
    .option('--rules <file>', 'JSON file of field rules (implies --pipeline rules)')
    .option('-c, --concurrency <n>', 'tasks in flight at once (default: 2 × threads)', positiveInt)
    .option('--threads <n>', 'worker threads for parsing (default: the number of cores)', positiveInt)
    .option('--chunk-pages <n>', 'pages per chunk; chunks of a big file run in parallel (default 50)', positiveInt)
    .option('--max-pages <n>', 'refuse documents with more pages (default 10000)', positiveInt)
    .option('--max-size <MB>', 'refuse larger files (default 1024)', positiveNumber)
    .option('--timeout <seconds>', 'kill a parsing task after this long (default 120)', positiveNumber)
    .option('--max-memory <MB>', 'heap cap per parsing thread; a file that needs more fails with resource_limit (default 512)', positiveInt)
    .addOption(new Option('--text <mode>', 'text in each line: per page, one string, or none').choices(['pages', 'full', 'none']).default('pages'))
    .option('--resume', 'skip files already in --out and continue unfinished work (default when --out exists)')
    .option('--no-resume', 'start over: truncate --out')
    .option('--data-dir <dir>', 'where the database, stored files and checkpoints live', '.ream')
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'lines', 'none']).default('auto'))
    .action(async (inputs: string[], flags: Record<string, unknown>) => {
      const options: RunOptions = {
        out: flags.out as string,
        dataDir: flags.dataDir as string,
        text: flags.text as RunOptions['text'],
        progress: flags.progress as RunOptions['progress'],
        ...(flags.pipeline === undefined ? {} : { pipeline: flags.pipeline as string }),
        ...(flags.rules === undefined ? {} : { rules: flags.rules as string }),
        ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency as number }),
        ...(flags.threads === undefined ? {} : { threads: flags.threads as number }),
        ...(flags.chunkPages === undefined ? {} : { chunkPages: flags.chunkPages as number }),
        ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages as number }),
        ...(flags.maxSize === undefined ? {} : { maxSizeMb: flags.maxSize as number }),
        ...(flags.timeout === undefined ? {} : { timeoutSeconds: flags.timeout as number }),
        ...(flags.maxMemory === undefined ? {} : { maxMemoryMb: flags.maxMemory as number }),
        ...(flags.resume === undefined ? {} : { resume: flags.resume as boolean }),
      };
      const llm = llmJobOptions(flags);
      if (llm) options.llm = llm;
      const ocr = ocrJobOptions(flags);
      if (Object.keys(ocr).length > 0) options.ocr = ocr;
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = (): void => {
        interrupts++;
        if (interrupts > 1) process.exit(130); // a second Ctrl-C: leave now, the next run still resumes
        process.stderr.write('\nstopping… (Ctrl-C again to quit at once)\n');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Loaded when `run` runs, so that the other commands and `--help` start without the engine.
      const { runCommand } = await import('./run-command.ts');
      const summary = await runCommand(inputs, options, controller.signal);
      process.stdout.write(`${formatSummary(summary, options.out)}\n`);
      process.exitCode = summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
    });

  registerServeCommand(program);
  registerWorkerCommand(program);
  registerMigrateCommand(program);
  registerClientCommands(program);
  registerKeysCommand(program);
  return program;
}

/** Entry point of the `ream` binary. Usage errors exit 2, failed documents 1, Ctrl-C 130. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help, or the version) already.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const reamError = toReamError(error);
    process.stderr.write(`ream: ${reamError.message} [${reamError.code}]\n`);
    process.exitCode = 2;
  }
}
