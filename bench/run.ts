// `npm run bench`: runs every benchmark side by side in one process tree and writes
// docs/benchmarks.md. Benchmarks are measurements, not tests: they never fail a build.
// `npm run bench -- scheduling pdf` runs only the named sections.
import { writeFile, mkdir } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';

interface Section {
  name: string;
  load: () => Promise<{ run: () => Promise<string> }>;
}

const sections: Section[] = [
  { name: 'scheduling', load: () => import('./scheduling.ts') },
  { name: 'many-files', load: () => import('./many-files.ts') },
  { name: 'queue', load: () => import('./queue.ts') },
  { name: 'queue-bullmq', load: () => import('./queue-bullmq.ts') },
  { name: 'pdf', load: () => import('./pdf-extract.ts') },
  { name: 'ocr', load: () => import('./ocr.ts') },
  { name: 'http', load: () => import('./http.ts') },
  { name: 'distributed', load: () => import('./distributed.ts') },
  { name: 'llm', load: () => import('./llm.ts') },
  { name: 'rows', load: () => import('./rows.ts') },
  { name: 'reports', load: () => import('./reports.ts') },
  { name: 'console', load: () => import('./console.ts') },
];

const wanted = process.argv.slice(2);
const chosen = wanted.length ? sections.filter((s) => wanted.includes(s.name)) : sections;
const parts: string[] = [];
for (const section of chosen) {
  process.stderr.write(`bench: ${section.name}…\n`);
  const module = await section.load();
  parts.push(await module.run());
}

const header = [
  '# Benchmarks',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\` on ${availableParallelism()} cores ` +
    `(${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. ` +
    'Every ratio compares figures measured side by side in the same run.',
  '',
].join('\n');
const markdown = `${header}\n${parts.join('\n\n')}\n`;
if (wanted.length) {
  process.stdout.write(markdown);
} else {
  await mkdir('docs', { recursive: true });
  await writeFile('docs/benchmarks.md', markdown);
  process.stdout.write(markdown);
  process.stderr.write('bench: wrote docs/benchmarks.md\n');
}
